//! The task tools' claims: join handles yield values and detach on drop,
//! sub-tasks do not block the run queue, an event wakes across threads, the
//! mutex excludes, is fair, and never loses an unlock to a dropped `lock`,
//! `spawn_blocking` leaves the executor free, and `timeout` parks what it drops.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod shared;
use shared::Shared;

use ch13_uring_pool::executor::{
    parked, parked_and_stats, poll_once, pool_or_skip, spawn, stats,
};
use ch13_uring_pool::op::Pipe;
use ch13_uring_pool::sync::{Event, Mutex};
use ch13_uring_pool::task::{spawn_blocking, timeout, yield_now};
use ch13_uring_pool::time::sleep;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_join_handle_yields_the_value_and_a_dropped_one_detaches() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let side_effect = Arc::new(Shared::new(false));
    let flag = Arc::clone(&side_effect);
    let value = runtime
        .block_on(async move {
            drop(spawn(async move {
                sleep(Duration::from_millis(30)).await;
                flag.set(true); // happens although nobody holds the handle
            }));
            spawn(async { "value" }).await.unwrap()
        })
        .unwrap();
    assert_eq!(value, "value");
    assert!(side_effect.get(), "the detached task was cancelled");
}

#[test]
fn awaiting_sub_tasks_does_not_block_other_tasks() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = Arc::clone(&log);
    runtime
        .block_on(async move {
            let l2 = Arc::clone(&l);
            let parent = spawn(async move {
                let child = spawn(async {
                    sleep(Duration::from_millis(60)).await;
                    7
                });
                let v = child.await.unwrap();
                l2.lock().unwrap().push(format!("parent got {v}"));
            });
            let l3 = Arc::clone(&l);
            spawn(async move {
                sleep(Duration::from_millis(10)).await;
                l3.lock().unwrap().push("other task ran".to_string());
            });
            parent.await.unwrap();
        })
        .unwrap();
    assert_eq!(*log.lock().unwrap(), ["other task ran", "parent got 7"]);
}

#[test]
fn an_event_notified_from_another_thread_wakes_the_task() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    for _ in 0..50 {
        let total = runtime
            .block_on(async {
                let event = Event::new().unwrap();
                let notifier = event.notifier();
                let thread = std::thread::spawn(move || {
                    for _ in 0..3 {
                        notifier.notify().unwrap();
                    }
                });
                let mut total = 0;
                while total < 3 {
                    total += event.wait().await.unwrap();
                }
                thread.join().unwrap();
                total
            })
            .unwrap();
        assert_eq!(total, 3);
    }
}

#[test]
fn the_mutex_excludes_and_hands_over_in_order() {
    // One worker, so that the order of the first `lock` calls is the order
    // of the spawns: the hand-over order is what is checked.
    let Some(runtime) = pool_or_skip(1) else {
        return;
    };
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let o = Arc::clone(&order);
    let total = runtime
        .block_on(async move {
            let mutex = Arc::new(Mutex::new(0u32));
            let inside = Arc::new(Shared::new(0u32));
            let handles: Vec<_> = (0..5)
                .map(|i| {
                    let (mutex, inside, o) =
                        (Arc::clone(&mutex), Arc::clone(&inside), Arc::clone(&o));
                    spawn(async move {
                        for _ in 0..3 {
                            let mut guard = mutex.lock().await;
                            inside.update(|v| v + 1);
                            assert_eq!(
                                inside.get(),
                                1,
                                "two tasks inside the lock"
                            );
                            o.lock().unwrap().push(i);
                            yield_now().await;
                            *guard += 1;
                            inside.set(inside.get() - 1);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            // Bound first: a guard in the tail expression would outlive `mutex`.
            #[allow(clippy::let_and_return)]
            let value = *mutex.lock().await;
            value
        })
        .unwrap();
    assert_eq!(total, 15);
    // FIFO hand-over: the tasks take turns, 0 1 2 3 4, three times.
    let expected: Vec<usize> = (0..3).flat_map(|_| 0..5).collect();
    assert_eq!(*order.lock().unwrap(), expected);
}

#[test]
fn a_dropped_lock_never_swallows_the_unlock() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            let mutex = Mutex::new(());
            let guard = mutex.lock().await;
            let mut first = Box::pin(mutex.lock());
            let mut second = Box::pin(mutex.lock());
            assert!(poll_once(&mut first).await.is_pending());
            assert!(poll_once(&mut second).await.is_pending());
            drop(guard); // handed to `first`...
            drop(first); // ...which is dropped before it takes it
            // The lock went on to `second` instead of being lost.
            assert!(poll_once(&mut second).await.is_ready());

            // A waiter that gives up (a timeout) leaves the queue too.
            let guard = mutex.lock().await;
            assert!(
                timeout(Duration::from_millis(10), mutex.lock())
                    .await
                    .is_err()
            );
            drop(guard);
            assert!(
                timeout(Duration::from_millis(1_000), mutex.lock())
                    .await
                    .is_ok()
            );
        })
        .unwrap();
}

#[test]
fn spawn_blocking_leaves_the_executor_free() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let ticks = Arc::new(Shared::new(0));
    let t = Arc::clone(&ticks);
    let (result, ticks_meanwhile) = runtime
        .block_on(async move {
            let t2 = Arc::clone(&t);
            spawn(async move {
                for _ in 0..5 {
                    sleep(Duration::from_millis(10)).await;
                    t2.update(|v| v + 1);
                }
            });
            let result = spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(200));
                "blocking work done"
            })
            .await;
            (result, t.get())
        })
        .unwrap();
    assert_eq!(result, "blocking work done");
    assert_eq!(ticks_meanwhile, 5, "the executor was blocked");
}

#[test]
fn timeout_drops_the_future_and_cancels_its_operation() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            let quick = timeout(Duration::from_secs(5), async { 1 }).await;
            assert_eq!(quick, Ok(1));
            let finished_before = stats().parked_completions;
            let slow = timeout(
                Duration::from_millis(20),
                pipe.read(Vec::with_capacity(16)),
            )
            .await;
            assert!(slow.is_err());
            let (parked_now, now) = parked_and_stats();
            let freed = now.parked_completions - finished_before;
            assert_eq!(
                parked_now + freed as usize,
                1,
                "the read's buffer waits in the reactor (or did, until its cancel)"
            );
            for _ in 0..10_000 {
                if parked() == 0 {
                    break;
                }
                sleep(Duration::from_millis(1)).await; // the cancel completes
            }
            assert_eq!(parked(), 0, "the cancelled read never completed");
            // The cancelled read took nothing: the next one gets the byte.
            pipe.write(b"x".to_vec()).await.unwrap().0.unwrap();
            let (n, buf) = pipe.read(Vec::with_capacity(16)).await.unwrap();
            assert_eq!(&buf[..n.unwrap()], b"x");
        })
        .unwrap();
}

#[test]
fn a_panic_in_spawn_blocking_reaches_the_task_that_awaits_it() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            // Under a timeout, so that a lost panic fails instead of hanging.
            let blocking =
                spawn_blocking(|| -> u32 { panic!("the blocking work failed") });
            timeout(Duration::from_secs(30), blocking).await
        })
    }));
    let payload = outcome.expect_err("the awaiting task did not panic");
    let message = payload.downcast_ref::<&str>().copied();
    assert_eq!(message, Some("the blocking work failed"));
    // The runtime still works after the panic went through it.
    let five = runtime.block_on(async { spawn_blocking(|| 5).await });
    assert_eq!(five.unwrap(), 5);
}

#[test]
fn durations_too_long_for_the_clock_saturate_instead_of_panicking() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            assert_eq!(timeout(Duration::MAX, async { 7 }).await, Ok(7));
            let never =
                timeout(Duration::from_millis(5), sleep(Duration::MAX)).await;
            assert!(never.is_err(), "a sleep of Duration::MAX ended");
            // Far, but representable: a real timer, which the turn's wait
            // takes as its deadline without overflowing.
            let far = timeout(
                Duration::from_millis(5),
                sleep(Duration::from_secs(u64::MAX / 4)),
            )
            .await;
            assert!(far.is_err());
            let long =
                timeout(Duration::MAX, timeout(Duration::MAX, yield_now())).await;
            assert_eq!(long, Ok(Ok(())));
        })
        .unwrap();
}
