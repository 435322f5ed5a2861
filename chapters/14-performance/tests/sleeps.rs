//! 100,000 concurrent sleeps, and not one more open file descriptor for them:
//! timers are a heap in the reactor, not a kernel object each. Alone in its
//! file (its own process), so that the descriptor count is exact.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{runtime_or_skip, spawn, yield_now};
use ch14_performance::time::sleep;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn a_hundred_thousand_concurrent_sleeps() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let done = Rc::new(Cell::new(0u32));
    let fds_before = open_fds();
    let peak_fds = Rc::new(Cell::new(0usize));
    let (d, peak) = (Rc::clone(&done), Rc::clone(&peak_fds));
    runtime
        .block_on(async move {
            for i in 0..100_000u64 {
                let d = Rc::clone(&d);
                spawn(async move {
                    sleep(Duration::from_millis(1 + i % 50)).await;
                    d.set(d.get() + 1);
                });
            }
            // Once every task has started its sleep, count the fds.
            yield_now().await;
            peak.set(open_fds());
        })
        .unwrap();
    assert_eq!(done.get(), 100_000);
    assert!(
        peak_fds.get() <= fds_before + 2,
        "timers cost file descriptors"
    );
}
