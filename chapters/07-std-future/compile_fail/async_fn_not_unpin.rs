// The future of an `async fn` that holds a borrow across an `.await` is
// `!Unpin`: the compiler knows it may refer into itself (E0277).
use ch07_std_future::async_requests::borrowing;

fn needs_unpin<T: Unpin>(_: T) {}

fn main() {
    let addr = "127.0.0.1:1".parse().unwrap();
    needs_unpin(borrowing(addr, String::from("hello world")));
}
