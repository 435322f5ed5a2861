//! At scale: 100,000 spawned tasks, and 5,000 concurrent operations on a ring
//! of 256 entries (a full submission queue is flushed, never an error). The
//! 100,000 sleeps are in `sleeps.rs`, a process of their own, so that their
//! count of open file descriptors is exact.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod shared;
use shared::Shared;

use ch13_uring_pool::executor::{
    Pool, pool_or_skip, spawn, until_submitted, yield_now,
};
use ch13_uring_pool::op::Pipe;
use std::sync::Arc;

#[test]
fn a_hundred_thousand_spawned_tasks() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let done = Arc::new(Shared::new(0u32));
    let d = Arc::clone(&done);
    runtime
        .block_on(async move {
            for _ in 0..100_000 {
                let d = Arc::clone(&d);
                spawn(async move {
                    yield_now().await;
                    d.update(|v| v + 1);
                });
            }
        })
        .unwrap();
    assert_eq!(done.get(), 100_000);
}

#[test]
fn five_thousand_concurrent_operations_on_a_ring_of_256() {
    if pool_or_skip(2).is_none() {
        return;
    }
    // Room for them all in flight: with the default bound (460 here), the
    // reads would fill it, and the write that feeds them would wait for
    // room for ever (the trap tests/bound.rs shows).
    let runtime = Pool::builder()
        .entries(256)
        .max_in_flight(10_000)
        .build()
        .unwrap();
    let pipe = Pipe::new().unwrap();
    let total = Arc::new(Shared::new(0usize));
    let (t, p) = (Arc::clone(&total), pipe.clone());
    runtime
        .block_on(async move {
            // 5,000 one-byte reads, all in flight at once on one pipe.
            for _ in 0..5_000 {
                let (t, p) = (Arc::clone(&t), p.clone());
                spawn(async move {
                    let (n, _) = p.read(Vec::with_capacity(1)).await.unwrap();
                    t.update(|v| v + n.unwrap());
                });
            }
            until_submitted().await; // every read is submitted now
            let (written, _) = p.write(vec![7u8; 5_000]).await.unwrap();
            assert_eq!(written.unwrap(), 5_000);
        })
        .unwrap();
    assert_eq!(total.get(), 5_000);
    let stats = runtime.stats();
    assert!(
        stats.full_queue_flushes > 0,
        "the queue never filled: {stats:?}"
    );
}
