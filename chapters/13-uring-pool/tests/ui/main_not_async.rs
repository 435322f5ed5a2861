// `#[main]` on a function that is not `async`.
#[ch13_uring_pool::main]
fn main() {}
