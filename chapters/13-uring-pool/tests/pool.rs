//! The pool's claims: tasks really run in parallel on its workers, and wakes
//! across threads are never lost, neither the doorbell that wakes the ring
//! thread nor the condition variable that wakes a worker.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod shared;
use shared::within_a_minute;

use ch13_uring_pool::executor::{pool_or_skip, spawn};
use ch13_uring_pool::op::nop;
use ch13_uring_pool::sync::Event;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;

#[test]
fn two_workers_run_two_tasks_at_the_same_time() {
    within_a_minute(|| {
        let Some(pool) = pool_or_skip(2) else {
            return;
        };
        // Each task blocks its thread at the barrier until the other one is
        // there too: only two threads polling at once get past it.
        let barrier = Arc::new(Barrier::new(2));
        let workers = pool
            .block_on(async {
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let barrier = Arc::clone(&barrier);
                        spawn(async move {
                            barrier.wait();
                            ch13_uring_pool::executor::current_worker().unwrap()
                        })
                    })
                    .collect();
                let mut workers = Vec::new();
                for task in tasks {
                    workers.push(task.await.unwrap());
                }
                workers
            })
            .unwrap();
        assert_ne!(workers[0], workers[1]);
    });
}

// ANCHOR: doorbell-stress
#[test]
fn wakes_of_the_ring_thread_are_never_lost() {
    within_a_minute(|| {
        let Some(pool) = pool_or_skip(2) else {
            return;
        };
        // Four tasks on two workers, each submitting 5,000 NOPs one after
        // another: each NOP is queued while the ring thread is busy, or
        // going to sleep, or asleep, and must reach the kernel every time.
        pool.block_on(async {
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    spawn(async {
                        for _ in 0..5_000 {
                            nop().await.unwrap().unwrap();
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        })
        .unwrap();
        let stats = pool.stats();
        assert!(
            stats.ring_sleeps > 100,
            "the ring thread never slept: {stats:?}"
        );
        assert!(stats.doorbell_rings > 100, "nobody rang: {stats:?}");
    });
}
// ANCHOR_END: doorbell-stress

#[test]
fn wakes_of_sleeping_workers_from_other_threads_are_never_lost() {
    within_a_minute(|| {
        // One worker: a wake it misses is a task nobody polls.
        let Some(pool) = pool_or_skip(1) else {
            return;
        };
        // A task waits for an event 2,000 times; a plain thread notifies it
        // each time, at varying moments: before the wait, while the worker
        // goes to sleep, after. The ring thread wakes the task; the worker
        // must wake for it.
        pool.block_on(async {
            spawn(async {
                let (event, (go, ready)) =
                    (Event::new().unwrap(), mpsc::channel::<u32>());
                let notifier = event.notifier();
                let helper = thread::spawn(move || {
                    while let Ok(round) = ready.recv() {
                        for _ in 0..(round % 50) * 20 {
                            std::hint::spin_loop();
                        }
                        notifier.notify().unwrap();
                    }
                });
                for round in 0..2_000 {
                    go.send(round).unwrap();
                    event.wait().await.unwrap();
                }
                drop(go);
                helper.join().unwrap();
            })
            .await
            .unwrap();
        })
        .unwrap();
    });
}

#[test]
fn block_on_runs_a_main_future_that_is_not_send() {
    let Some(pool) = pool_or_skip(1) else {
        return;
    };
    // An `Rc` held across an `.await`: not `Send`, so it could not be
    // spawned, but the main future stays on the thread that calls block_on.
    let value = pool
        .block_on(async {
            let shared = std::rc::Rc::new(41);
            let from_a_task = spawn(async { 1 }).await.unwrap();
            *shared + from_a_task
        })
        .unwrap();
    assert_eq!(value, 42);
}
