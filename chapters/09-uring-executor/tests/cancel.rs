//! Dropping a read in flight cancels it: the bytes that arrive afterwards go
//! to the next read. And what cancel cannot fix: a read that completed before
//! its future was dropped took its bytes with it.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch09_uring_executor::executor::{
    parked, poll_once, runtime_or_skip, stats, yield_now,
};
use ch09_uring_executor::op::Pipe;
use ch09_uring_executor::time::sleep;
use std::time::Duration;

#[test]
fn an_abandoned_read_leaves_the_next_bytes_to_the_next_read() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            for round in 0..6 {
                let mut read = pipe.read(Vec::with_capacity(16));
                assert!(poll_once(&mut read).await.is_pending());
                yield_now().await; // in the kernel
                drop(read); // parked, and cancelled
                for _ in 0..10_000 {
                    if parked() == 0 {
                        break;
                    }
                    sleep(Duration::from_millis(1)).await;
                }
                assert_eq!(
                    parked(),
                    0,
                    "round {round}: the cancel never completed"
                );
                pipe.write_now(b"next").unwrap();
                let (n, buf) = pipe.read(Vec::with_capacity(16)).await.unwrap();
                assert_eq!(&buf[..n.unwrap()], b"next", "round {round}");
            }
        })
        .unwrap();
}

/// The read completed (the kernel took the bytes from the pipe) in the turn
/// before its future was dropped. Dropping it then throws those bytes away
/// with the buffer; the next read gets only what was written after.
#[test]
fn a_read_that_completed_before_its_drop_loses_its_data() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            let mut read = pipe.read(Vec::with_capacity(16));
            assert!(poll_once(&mut read).await.is_pending());
            yield_now().await; // submitted
            let before = stats().completions;
            pipe.write_now(b"first").unwrap();
            while stats().completions == before {
                yield_now().await; // the completion is reaped, not yet taken
            }
            drop(read); // done, not in flight: nothing to cancel
            assert_eq!(parked(), 0);
            pipe.write_now(b"second").unwrap();
            let (n, buf) = pipe.read(Vec::with_capacity(16)).await.unwrap();
            assert_eq!(&buf[..n.unwrap()], b"second", "the first bytes are lost");
        })
        .unwrap();
}
