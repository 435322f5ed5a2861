//! Memory that must not grow with use: sleeps that were cancelled leave the
//! reactor at once.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod counting;

use ch09_uring_executor::executor::{poll_once, runtime_or_skip, timers};
use ch09_uring_executor::time::sleep;
use counting::live_bytes;
use std::time::Duration;

#[test]
fn a_million_cancelled_sleeps_leave_no_timer_and_no_memory_behind() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let round = || async {
                for _ in 0..500_000 {
                    // Polled once (so its timer is registered), then dropped.
                    let mut nap = sleep(Duration::from_secs(3600));
                    assert!(poll_once(&mut nap).await.is_pending());
                }
            };
            round().await; // the timer map reaches its working size
            let before = live_bytes();
            round().await;
            assert_eq!(timers(), 0, "cancelled sleeps left timers behind");
            let grown = live_bytes() - before;
            assert!(grown < 4096, "{grown} bytes more after 500,000 sleeps");
            // A sleep too long for the clock saturates: it never ends, and
            // needs no timer.
            let mut never = sleep(Duration::MAX);
            assert!(poll_once(&mut never).await.is_pending());
            assert_eq!(timers(), 0);
        })
        .unwrap();
}
