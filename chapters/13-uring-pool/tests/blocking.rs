//! `spawn_blocking` runs on a bounded set of threads that it reuses: a
//! burst larger than the bound waits in a queue instead of starting a
//! thread per call.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{Pool, pool_or_skip};
use ch13_uring_pool::task::spawn_blocking;
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

#[test]
fn sixty_four_calls_run_on_four_reused_threads() {
    if pool_or_skip(1).is_none() {
        return;
    }
    let pool = Pool::builder().blocking_threads(4).build().unwrap();
    for round in 0..2 {
        let threads = pool
            .block_on(async {
                // Four at a time must run together (the barrier), so all four
                // threads are started; no fifth ever is.
                let barrier = Arc::new(Barrier::new(4));
                let calls: Vec<_> = (0..64)
                    .map(|_| {
                        let barrier = Arc::clone(&barrier);
                        spawn_blocking(move || {
                            barrier.wait();
                            std::thread::current().id()
                        })
                    })
                    .collect();
                let mut threads = HashSet::new();
                for call in calls {
                    threads.insert(call.await);
                }
                threads.len()
            })
            .unwrap();
        assert_eq!(threads, 4, "round {round}");
        // The second round reuses the first round's threads.
        assert_eq!(pool.blocking_threads_started(), 4, "round {round}");
    }
}
