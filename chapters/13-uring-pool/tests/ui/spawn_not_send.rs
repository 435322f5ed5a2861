// A task that holds an `Rc` across an `.await` cannot be spawned: another
// worker may poll it after the wait, and `Rc` cannot cross threads.
use std::rc::Rc;

#[ch13_uring_pool::main]
async fn main() {
    ch13_uring_pool::executor::spawn(async {
        let shared = Rc::new(1);
        ch13_uring_pool::task::yield_now().await;
        println!("{shared}");
    });
}
