//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch12_uring_cancel::executor::runtime_or_skip;
use ch12_uring_cancel::exercises::{retry_with_timeout, wait_for};
use ch12_uring_cancel::sync::Event;
use ch12_uring_cancel::time::sleep;
use std::cell::Cell;
use std::time::Duration;

#[test]
fn retry_gives_up_on_slow_attempts_and_takes_a_quick_one() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let tries = Cell::new(0);
    let result = runtime
        .block_on(retry_with_timeout(5, Duration::from_millis(20), || {
            tries.set(tries.get() + 1);
            let slow = tries.get() < 3;
            async move {
                if slow {
                    sleep(Duration::from_secs(10)).await;
                }
                "third time lucky"
            }
        }))
        .unwrap();
    assert_eq!((result, tries.get()), (Ok("third time lucky"), 3));
}

#[test]
fn wait_for_counts_notifications_from_other_threads() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let seen = runtime
        .block_on(async {
            let event = Event::new().unwrap();
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let n = event.notifier();
                    std::thread::spawn(move || n.notify().unwrap())
                })
                .collect();
            let seen = wait_for(&event, 4).await.unwrap();
            for t in threads {
                t.join().unwrap();
            }
            seen
        })
        .unwrap();
    assert_eq!(seen, 4);
}
