//! Join handles: `join` gives the value or why there is none; a panic stays
//! in its task; a dropped handle detaches and the task is never cancelled,
//! also when the program's main future ends first; `abort` cancels, on a
//! worker, and what the aborted task had in flight is cancelled too.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod shared;
use shared::Shared;

use ch13_uring_pool::executor::{
    Pool, current_worker, parked, pool_or_skip, spawn,
};
use ch13_uring_pool::op::Pipe;
use ch13_uring_pool::time::sleep;
use std::sync::Arc;
use std::time::Duration;

/// Records, when dropped, on which worker that happened.
struct DroppedOn(Arc<Shared<Option<Option<usize>>>>);

impl Drop for DroppedOn {
    fn drop(&mut self) {
        self.0.set(Some(current_worker()));
    }
}

#[test]
fn join_gives_the_value_or_the_panic() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    pool.block_on(async {
        assert_eq!(spawn(async { 6 * 7 }).join().await.unwrap(), 42);
        let doomed = spawn(async {
            if true {
                panic!("no answer");
            }
        });
        let err = doomed.join().await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        assert_eq!(err.message(), "no answer");
    })
    .unwrap();
}

// ANCHOR: detached
#[test]
fn a_detached_task_finishes_its_critical_section_after_main_returns() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    let steps = Arc::new(Shared::new(0));
    let record = Arc::clone(&steps);
    pool.block_on(async move {
        drop(spawn(async move {
            record.set(1); // the critical section begins...
            sleep(Duration::from_millis(50)).await;
            record.set(2); // ...and always ends
        }));
        // main returns at once; block_on waits for the detached task
    })
    .unwrap();
    assert_eq!(steps.get(), 2, "the detached task was cut short");
}
// ANCHOR_END: detached

#[test]
fn a_detached_task_past_the_grace_period_is_dropped_on_a_worker() {
    if pool_or_skip(2).is_none() {
        return;
    }
    let pool = Pool::builder()
        .grace(Duration::from_millis(20))
        .build()
        .unwrap();
    let dropped = Arc::new(Shared::new(None));
    let guard = DroppedOn(Arc::clone(&dropped));
    pool.block_on(async move {
        drop(spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        }));
    })
    .unwrap();
    assert_eq!(pool.live_tasks(), 0);
    let on = dropped.get().expect("the task was not dropped");
    assert!(on.is_some(), "dropped off the workers");
}

#[test]
fn abort_cancels_the_task_and_what_it_had_in_flight() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    let dropped = Arc::new(Shared::new(None));
    let guard = DroppedOn(Arc::clone(&dropped));
    pool.block_on(async move {
        let pipe = Pipe::new().unwrap();
        let reader = pipe.clone();
        let task = spawn(async move {
            let _guard = guard;
            reader.read(Vec::with_capacity(64)).await // never completes
        });
        ch13_uring_pool::executor::until_submitted().await;
        task.abort();
        let err = task.join().await.unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        // The read was parked and cancelled; its completion frees it.
        while parked() > 0 {
            ch13_uring_pool::task::yield_now().await;
        }
        // The next read gets what arrives: the aborted one took nothing.
        pipe.write_now(b"after").unwrap();
        let (n, buf) = pipe.read(Vec::with_capacity(64)).await.unwrap();
        assert_eq!(&buf[..n.unwrap()], b"after");
    })
    .unwrap();
    assert!(
        dropped.get().expect("not dropped").is_some(),
        "dropped off the workers"
    );
}

#[test]
fn abort_after_the_end_keeps_the_output() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    pool.block_on(async {
        let task = spawn(async { "done" });
        while !task.is_finished() {
            ch13_uring_pool::task::yield_now().await;
        }
        task.abort();
        assert_eq!(task.join().await.unwrap(), "done");
    })
    .unwrap();
}
