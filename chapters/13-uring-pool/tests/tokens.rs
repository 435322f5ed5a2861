//! Cancellation tokens across threads: a cancel reaches every waiter on
//! every worker and every child, however the cancel and the making of
//! children interleave; `run_until_cancelled` never starts work on a token
//! already cancelled, and keeps a result that is ready.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{pool_or_skip, spawn};
use ch13_uring_pool::token::CancellationToken;
use std::sync::Arc;
use std::thread;

#[test]
fn a_cancel_from_another_thread_reaches_a_thousand_waiters() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    let root = CancellationToken::new();
    let canceller = root.clone();
    let woke = pool
        .block_on(async move {
            let waiters: Vec<_> = (0..1_000)
                .map(|i| {
                    // Half wait on the root, half on children of children.
                    let token = if i % 2 == 0 {
                        root.clone()
                    } else {
                        root.child_token().child_token()
                    };
                    spawn(async move { token.cancelled().await })
                })
                .collect();
            let cancel = thread::spawn(move || canceller.cancel());
            let mut woke = 0;
            for waiter in waiters {
                waiter.await.unwrap();
                woke += 1;
            }
            cancel.join().unwrap();
            woke
        })
        .unwrap();
    assert_eq!(woke, 1_000);
}

#[test]
fn children_made_while_the_parent_is_cancelled_all_end_up_cancelled() {
    for _ in 0..20 {
        let root = CancellationToken::new();
        let makers: Vec<_> = (0..4)
            .map(|_| {
                let root = root.clone();
                thread::spawn(move || {
                    (0..2_000).map(|_| root.child_token()).collect::<Vec<_>>()
                })
            })
            .collect();
        let canceller = {
            let root = root.clone();
            thread::spawn(move || root.cancel())
        };
        canceller.join().unwrap();
        let children: Vec<_> =
            makers.into_iter().flat_map(|m| m.join().unwrap()).collect();
        let missed = children.iter().filter(|c| !c.is_cancelled()).count();
        assert_eq!(missed, 0, "children that a cancel of their parent missed");
    }
}

#[test]
fn run_until_cancelled_starts_nothing_on_a_cancelled_token() {
    let Some(pool) = pool_or_skip(1) else {
        return;
    };
    pool.block_on(async {
        let token = CancellationToken::new();
        token.cancel();
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&started);
        // Ready on its first poll: if it were polled, it would win.
        let work = async move {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            1
        };
        assert_eq!(token.run_until_cancelled(work).await, None);
        assert!(
            !started.load(std::sync::atomic::Ordering::SeqCst),
            "the work started"
        );
        // Not cancelled: the output comes through.
        let fresh = CancellationToken::new();
        assert_eq!(fresh.run_until_cancelled(async { 2 }).await, Some(2));
    })
    .unwrap();
}
