// `#[main]` with an option it does not have.
#[ch13_uring_pool::main(threads = 4)]
async fn main() {}
