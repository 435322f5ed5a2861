//! At scale: 100,000 spawned tasks, and 5,000 concurrent operations on a ring
//! of 256 entries (a full submission queue is flushed, never an error). The
//! 100,000 sleeps are in `sleeps.rs`, a process of their own, so that their
//! count of open file descriptors is exact.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{Runtime, runtime_or_skip, spawn, yield_now};
use ch14_performance::op::Pipe;
use std::cell::Cell;
use std::rc::Rc;

#[test]
fn a_hundred_thousand_spawned_tasks() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let done = Rc::new(Cell::new(0u32));
    let d = Rc::clone(&done);
    runtime
        .block_on(async move {
            for _ in 0..100_000 {
                let d = Rc::clone(&d);
                spawn(async move {
                    yield_now().await;
                    d.set(d.get() + 1);
                });
            }
        })
        .unwrap();
    assert_eq!(done.get(), 100_000);
}

#[test]
fn five_thousand_concurrent_operations_on_a_ring_of_256() {
    if runtime_or_skip().is_none() {
        return;
    }
    let mut runtime = Runtime::with_entries(256).unwrap();
    let pipe = Pipe::new().unwrap();
    let total = Rc::new(Cell::new(0usize));
    let (t, p) = (Rc::clone(&total), pipe.clone());
    runtime
        .block_on(async move {
            // 5,000 one-byte reads, all in flight at once on one pipe.
            for _ in 0..5_000 {
                let (t, p) = (Rc::clone(&t), p.clone());
                spawn(async move {
                    let (n, _) = p.read(Vec::with_capacity(1)).await.unwrap();
                    t.set(t.get() + n.unwrap());
                });
            }
            yield_now().await; // every read is submitted now
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
