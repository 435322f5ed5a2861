//! Task groups: the first failure wins and names its task, and cancels the
//! group's token, which the others see and stop at a point of their
//! choosing (they are never aborted); `wait` returns only once the group is
//! closed and empty, so a task spawned late is never missed.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod shared;
use shared::Shared;

use ch13_uring_pool::executor::pool_or_skip;
use ch13_uring_pool::group::{Failure, GroupOver, TaskGroup};
use ch13_uring_pool::task::{Either, race};
use ch13_uring_pool::time::sleep;
use ch13_uring_pool::token::CancellationToken;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn the_first_failure_wins_names_its_task_and_stops_the_rest() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    let cleaned_up = Arc::new(Shared::new(0));
    let counted = Arc::clone(&cleaned_up);
    let error = pool
        .block_on(async move {
            let group = TaskGroup::<String>::new(&CancellationToken::new());
            for name in ["a", "b", "c"] {
                let (token, counted) = (group.token(), Arc::clone(&counted));
                group
                    .spawn(name, async move {
                        token.cancelled().await;
                        counted.update(|n| n + 1); // ends at its own point
                        Ok(())
                    })
                    .unwrap();
            }
            group
                .spawn("fails", async {
                    sleep(Duration::from_millis(5)).await;
                    Err("disk full".to_string())
                })
                .unwrap();
            group
                .spawn("fails later", async {
                    sleep(Duration::from_millis(30)).await;
                    Err("too late to matter".to_string())
                })
                .unwrap();
            group.join().await.unwrap_err()
        })
        .unwrap();
    assert_eq!(error.task, "fails");
    assert!(matches!(&error.failure, Failure::Error(e) if e == "disk full"));
    assert_eq!(error.to_string(), "task \"fails\" failed: disk full");
    assert_eq!(
        cleaned_up.get(),
        3,
        "the others did not all stop and clean up"
    );
}

#[test]
fn a_panic_is_a_failure_too() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    let error = pool
        .block_on(async {
            let group = TaskGroup::<String>::new(&CancellationToken::new());
            group
                .spawn("panics", async {
                    if true {
                        panic!("bad state");
                    }
                    Ok(())
                })
                .unwrap();
            group.join().await.unwrap_err()
        })
        .unwrap();
    assert_eq!(error.to_string(), "task \"panics\" panicked: bad state");
}

#[test]
fn wait_returns_only_when_closed_and_empty() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    pool.block_on(async {
        let group = TaskGroup::<()>::new(&CancellationToken::new());
        // Empty but open: the waiter must not return yet.
        let early = race(group.wait(), sleep(Duration::from_millis(20))).await;
        assert!(
            matches!(early, Either::Right(())),
            "wait returned on an open group"
        );
        let done = Arc::new(Shared::new(false));
        let flag = Arc::clone(&done);
        group
            .spawn("late", async move {
                sleep(Duration::from_millis(10)).await;
                flag.set(true);
                Ok(())
            })
            .unwrap();
        group.close();
        // Closed, with one task running: it may still start a sibling.
        let sibling = group.clone();
        group
            .spawn("starts a sibling", async move {
                sibling.spawn("sibling", async { Ok(()) }).unwrap();
                Ok(())
            })
            .unwrap();
        group.wait().await.unwrap();
        assert!(done.get(), "wait returned before the late task ended");
        // Closed and empty: over.
        assert_eq!(group.spawn("too late", async { Ok(()) }), Err(GroupOver));
    })
    .unwrap();
}

#[test]
fn cancelling_the_parent_token_cancels_the_group() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    pool.block_on(async {
        let shutdown = CancellationToken::new();
        let group = TaskGroup::<()>::new(&shutdown);
        let token = group.token();
        group
            .spawn("server", async move {
                token.cancelled().await;
                Ok(())
            })
            .unwrap();
        shutdown.cancel();
        group.join().await.unwrap();
        // ...never the reverse: a group's failure or cancel stays in it.
        let parent = CancellationToken::new();
        let failing = TaskGroup::<()>::new(&parent);
        failing.spawn("fails", async { Err(()) }).unwrap();
        assert!(failing.join().await.is_err());
        assert!(
            !parent.is_cancelled(),
            "a group's failure cancelled its parent"
        );
    })
    .unwrap();
}
