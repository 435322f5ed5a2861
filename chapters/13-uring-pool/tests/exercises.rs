//! The exercises' solutions do what the page asks.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{current_worker, pool_or_skip};
use ch13_uring_pool::exercises::{child_with_deadline, parallel_map};
use ch13_uring_pool::task::{timeout, yield_now};
use ch13_uring_pool::time::sleep;
use ch13_uring_pool::token::CancellationToken;
use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

#[test]
fn parallel_map_keeps_the_order_runs_on_several_workers_and_reports_a_panic() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    pool.block_on(async {
        // Later items finish first; the outputs still come in item order.
        let squares = parallel_map(vec![30u64, 20, 10, 0], |ms| async move {
            sleep(Duration::from_millis(ms)).await;
            ms * ms
        })
        .await
        .unwrap();
        assert_eq!(squares, [900, 400, 100, 0]);
        // Two calls that must run at the same time to get past the barrier.
        let barrier = Arc::new(Barrier::new(2));
        let workers = parallel_map(vec![(); 2], |()| {
            let barrier = Arc::clone(&barrier);
            async move {
                barrier.wait();
                current_worker().unwrap()
            }
        })
        .await
        .unwrap();
        assert_eq!(workers.into_iter().collect::<HashSet<_>>().len(), 2);
        let failed = parallel_map(vec![1, 2, 3], |n| async move {
            assert_ne!(n, 2, "two is not allowed");
            n
        })
        .await
        .unwrap_err();
        assert!(failed.message().contains("two is not allowed"), "{failed}");
    })
    .unwrap();
}

#[test]
fn a_deadline_cancels_its_child_only_and_its_timer_ends_with_the_child() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    pool.block_on(async {
        let parent = CancellationToken::new();
        let child = child_with_deadline(&parent, Duration::from_millis(10));
        child.cancelled().await;
        assert!(!parent.is_cancelled(), "the deadline reached the parent");
        // Cancelled early through its parent: the timer task ends at once
        // instead of waiting out its hour.
        let child = child_with_deadline(&parent, Duration::from_secs(3600));
        parent.cancel();
        assert!(child.is_cancelled());
        // Checked here, not after block_on, which would wait out the grace
        // period and then abort a timer that failed to end.
        let ended = timeout(Duration::from_secs(5), async {
            while pool.live_tasks() > 0 {
                yield_now().await;
            }
        });
        assert!(ended.await.is_ok(), "a timer outlived its token");
    })
    .unwrap();
}
