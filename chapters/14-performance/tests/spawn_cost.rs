//! What a spawn costs, counted rather than timed: one allocation for the
//! task (its future and its output together) and one for its waker, where
//! chapter 12 made four and hashed every wake.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod counting;

use ch14_performance::executor::{runtime_or_skip, spawn};

#[test]
fn a_spawn_makes_two_allocations() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    const TASKS: usize = 10_000;
    let sum = runtime
        .block_on(async {
            // Room for the handles first, so that only the spawns count.
            let mut handles = Vec::with_capacity(TASKS);
            let before = counting::allocations();
            for i in 0..TASKS {
                handles.push(spawn(async move { i }));
            }
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            let per_task = (counting::allocations() - before) as f64 / TASKS as f64;
            // Two per task, and a little for the tables growing (amortised).
            assert!(
                per_task < 2.1,
                "{per_task:.2} allocations per spawned task (expected 2)"
            );
            sum
        })
        .unwrap();
    assert_eq!(sum, TASKS * (TASKS - 1) / 2);
}
