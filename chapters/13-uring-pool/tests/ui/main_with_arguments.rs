// `#[main]` on a `main` that takes arguments.
#[ch13_uring_pool::main]
async fn main(port: u16) {
    let _ = port;
}
