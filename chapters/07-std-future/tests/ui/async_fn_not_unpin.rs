// The future of an `async fn` is `!Unpin` (E0277). This one holds a borrow
// across an `.await`, so it may refer into itself; but the compiler makes
// every `async fn` future `!Unpin`, even one that borrows nothing.
use ch07_std_future::async_requests::borrowing;

fn needs_unpin<T: Unpin>(_: T) {}

fn main() {
    let addr = "127.0.0.1:1".parse().unwrap();
    needs_unpin(borrowing(addr, String::from("hello world")));
}
