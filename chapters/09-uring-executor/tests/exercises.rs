//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch09_uring_executor::executor::{Runtime, runtime_or_skip, spawn, yield_now};
use ch09_uring_executor::exercises::{nops_in_a_row, nops_in_tasks, read_exact};
use ch09_uring_executor::op::Pipe;
use std::cell::RefCell;
use std::rc::Rc;

#[test]
fn read_exact_collects_pieces() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            for piece in [&b"one "[..], b"two ", b"three"] {
                pipe.write(piece.to_vec()).await.unwrap().0.unwrap();
            }
            assert_eq!(read_exact(&pipe, 13).await.unwrap(), b"one two three");
        })
        .unwrap();
}

#[test]
fn two_read_exacts_in_a_row_lose_nothing() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let lines = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&lines);
    runtime
        .block_on(async move {
            let pipe = Pipe::new().unwrap();
            let for_reader = pipe.clone();
            spawn(async move {
                for n in [8, 5] {
                    let got = read_exact(&for_reader, n).await.unwrap();
                    seen.borrow_mut().push(got);
                }
            });
            // The first read finds only 4 bytes; the second is in flight
            // when the rest arrives, with more after it: a read that asked
            // for more than the 4 still missing would swallow some.
            pipe.write(b"one ".to_vec()).await.unwrap().0.unwrap();
            yield_now().await;
            yield_now().await;
            pipe.write(b"two threeXXXXX".to_vec())
                .await
                .unwrap()
                .0
                .unwrap();
        })
        .unwrap();
    assert_eq!(*lines.borrow(), [b"one two ".to_vec(), b"three".to_vec()]);
}

#[test]
fn tasks_share_system_calls_where_a_loop_cannot() {
    if runtime_or_skip().is_none() {
        return;
    }
    let mut in_a_row = Runtime::new().unwrap();
    in_a_row.block_on(nops_in_a_row(1_000)).unwrap().unwrap();
    let mut in_tasks = Runtime::new().unwrap();
    in_tasks.block_on(async { nops_in_tasks(1_000) }).unwrap();
    let (row, tasks) = (in_a_row.stats().enters, in_tasks.stats().enters);
    // One enter per NOP in a row; a handful in all for the tasks (a ring of
    // 256 entries is flushed a few times, then one enter takes the rest).
    assert!(row >= 1_000, "{row}");
    assert!(tasks <= 10, "{tasks}");
}
