//! `cargo run --example timer`: two tasks race to print, on different sleeps.

use ch13_uring_pool::executor::spawn;
use ch13_uring_pool::time::sleep;
use std::time::Duration;

#[ch13_uring_pool::main]
async fn main() -> std::io::Result<()> {
    let slow = spawn(async {
        sleep(Duration::from_millis(200)).await;
        println!("the 200 ms task prints second");
    });
    let fast = spawn(async {
        sleep(Duration::from_millis(100)).await;
        println!("the 100 ms task prints first");
    });
    slow.await?;
    fast.await?;
    println!("both done");
    Ok(())
}
