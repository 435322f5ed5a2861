// `#[main]` asked for a pool without workers.
#[ch13_uring_pool::main(workers = 0)]
async fn main() {}
