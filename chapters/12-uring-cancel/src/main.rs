//! Chapter 11: the tools tasks use with each other, one after the other.

use ch12_uring_cancel::executor::{Runtime, spawn};
use ch12_uring_cancel::sync::{Event, Mutex};
use ch12_uring_cancel::task::{spawn_blocking, timeout, yield_now};
use ch12_uring_cancel::time::sleep;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: main
    Runtime::new()?.block_on(async {
        let answer = spawn(async { 6 * 7 }).await?;
        println!("a join handle gave the task's value: {answer}");

        drop(spawn(async {
            // Long enough to finish after everything below.
            sleep(Duration::from_millis(400)).await;
            println!("a detached task finished anyway, after its handle was dropped");
        }));

        let event = Event::new()?;
        let notifier = event.notifier();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let _ = notifier.notify();
        });
        let count = event.wait().await?;
        println!("an event notified from another thread woke its task ({count} notification)");

        let counter = Rc::new(Mutex::new(0u32));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let counter = Rc::clone(&counter);
                spawn(async move {
                    for _ in 0..10 {
                        let mut value = counter.lock().await;
                        let seen = *value;
                        yield_now().await; // others run, but cannot get in
                        *value = seen + 1;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await?;
        }
        println!("three tasks added 10 each under the mutex: {}", *counter.lock().await);

        let sum = spawn_blocking(|| (1..=1_000_000u64).sum::<u64>()).await;
        println!("spawn_blocking summed on another thread: {sum}");

        let late = timeout(Duration::from_millis(50), sleep(Duration::from_secs(10))).await;
        println!("a 10 s sleep under a 50 ms timeout: {}", match late {
            Ok(()) => "finished".to_string(),
            Err(e) => e.to_string(),
        });
        Ok::<_, std::io::Error>(())
    })??;
    // ANCHOR_END: main
    Ok(())
}
