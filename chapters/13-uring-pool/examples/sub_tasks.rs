//! `cargo run --example sub_tasks`: a task spawns sub-tasks and awaits their
//! join handles, while another task keeps running.

use ch13_uring_pool::executor::spawn;
use ch13_uring_pool::time::sleep;
use std::time::Duration;

#[ch13_uring_pool::main]
async fn main() -> std::io::Result<()> {
    let parent = spawn(async {
        let handles: Vec<_> = [300u64, 100, 200]
            .into_iter()
            .map(|ms| {
                spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    println!("  sub-task of {ms} ms finished");
                    ms * 2
                })
            })
            .collect();
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await?); // waits without blocking anyone
        }
        Ok::<_, std::io::Error>(results)
    });
    spawn(async {
        sleep(Duration::from_millis(50)).await;
        println!("  another task ran while the parent waited");
    });
    println!("parent's sub-tasks returned {:?}", parent.await??);
    Ok(())
}
