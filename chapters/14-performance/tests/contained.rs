//! Failures stay where they happen: a task that panics ends alone, and its
//! join handle says so with the panic; a panic in a dropped operation's
//! handling of its result loses no other completion; forgetting a future
//! with a read in flight leaks it, and never frees what the kernel writes.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{
    poll_once, runtime_or_skip, spawn, stats, yield_now,
};
use ch14_performance::op::{Op, Operation, Pipe, nop};
use ch14_performance::time::sleep;
use io_uring::{opcode, squeue};
use std::cell::Cell;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

#[test]
fn a_panicking_task_ends_alone_and_its_handle_carries_the_panic() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let sibling_done = Rc::new(Cell::new(false));
    let done = Rc::clone(&sibling_done);
    let message = runtime
        .block_on(async move {
            let sibling = spawn(async move {
                sleep(Duration::from_millis(20)).await;
                done.set(true);
            });
            let doomed = spawn(async {
                sleep(Duration::from_millis(5)).await;
                let _in_flight = nop(); // dropped by the unwinding, like any value
                if true {
                    panic!("task 7 failed");
                }
                7
            });
            let err = doomed.await.unwrap_err();
            sibling.await.unwrap();
            err.to_string()
        })
        .unwrap();
    assert_eq!(message, "the task panicked: task 7 failed");
    assert!(sibling_done.get(), "the sibling did not finish");
    // And the runtime goes on.
    let again = runtime.block_on(async { spawn(async { 1 }).await });
    assert_eq!(again.unwrap().unwrap(), 1);
}

/// A NOP whose `abandoned` panics: an operation written by someone else.
struct Clumsy;

impl Operation for Clumsy {
    type Output = ();
    fn entry(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }
    fn complete(self, _: i32) {}
    fn abandoned(self, _: i32, _: &mut Vec<Waker>) {
        panic!("clumsy cleanup");
    }
}

#[test]
fn a_panic_in_a_dropped_operations_cleanup_loses_no_other_completion() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let finished = Rc::new(Cell::new(0));
    let count = Rc::clone(&finished);
    runtime
        .block_on(async move {
            for _ in 0..100 {
                // Dropped after its first poll: its completion, in the same
                // batch as the hundred NOPs below, runs the panicking cleanup.
                let mut clumsy = Op::new(Clumsy);
                assert!(poll_once(&mut clumsy).await.is_pending());
                drop(clumsy);
                let count = Rc::clone(&count);
                spawn(async move {
                    nop().await.unwrap().unwrap();
                    count.set(count.get() + 1);
                });
            }
            while stats().abandon_panics < 100 {
                yield_now().await;
            }
        })
        .unwrap();
    assert_eq!(finished.get(), 100, "completions were lost with the panics");
    assert_eq!(runtime.stats().abandon_panics, 100);
}

#[test]
fn forgotten_reads_in_flight_leak_and_never_touch_freed_memory() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    const READS: usize = 1_000;
    const SIZE: usize = 4096;
    runtime
        .block_on(async {
            let pipes: Vec<Pipe> =
                (0..READS).map(|_| Pipe::new().unwrap()).collect();
            for pipe in &pipes {
                let mut read = Box::pin(pipe.read(Vec::with_capacity(SIZE)));
                assert!(poll_once(&mut read).await.is_pending());
                std::mem::forget(read); // no Drop: nothing parks, nothing cancels
            }
            yield_now().await; // all in the kernel
            // Where freed memory would be reused: fresh buffers of the size.
            let fresh: Vec<Vec<u8>> =
                (0..READS * 2).map(|_| vec![0xAA; SIZE]).collect();
            let before = stats().completions;
            for pipe in &pipes {
                pipe.write_now(&[0x55; SIZE]).unwrap();
            }
            while stats().completions < before + READS as u64 {
                yield_now().await; // the kernel writes into the leaked buffers
            }
            let changed = fresh
                .iter()
                .filter(|b| b.iter().any(|&x| x != 0xAA))
                .count();
            assert_eq!(changed, 0, "the kernel wrote into freed memory");
        })
        .unwrap();
}
