//! The reactor's rules: an operation's entry is built exactly once, however
//! often its future is polled, and results come back with their buffers.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{poll_once, pool_or_skip, stats, yield_now};
use ch13_uring_pool::op::{Op, Operation, Pipe, check};
use io_uring::{opcode, squeue};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A NOP that counts how many times its entry is built.
struct CountedNop(Arc<AtomicU32>);

impl Operation for CountedNop {
    type Output = ();
    fn entry(&mut self) -> squeue::Entry {
        self.0.fetch_add(1, Ordering::SeqCst);
        opcode::Nop::new().build()
    }
    fn complete(self, result: i32) {
        check(result).unwrap();
    }
}

#[test]
fn the_submission_closure_runs_exactly_once() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    let built = Arc::new(AtomicU32::new(0));
    let b = Arc::clone(&built);
    runtime
        .block_on(async move {
            let mut op = Op::new(CountedNop(Arc::clone(&b)));
            // Polled three times per turn while queued and in flight, until
            // it completes.
            let mut polls = 0;
            'done: loop {
                for _ in 0..3 {
                    polls += 1;
                    if poll_once(&mut op).await.is_ready() {
                        break 'done;
                    }
                }
                yield_now().await;
            }
            assert!(polls >= 4, "{polls} polls");
        })
        .unwrap();
    assert_eq!(built.load(Ordering::SeqCst), 1);
}

#[test]
fn buffers_come_back_with_their_results() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            let pipe = Pipe::new().unwrap();
            let (n, buf) = pipe.write(b"round trip".to_vec()).await.unwrap();
            assert_eq!((n.unwrap(), buf.as_slice()), (10, &b"round trip"[..]));
            let (n, buf) = pipe.read(Vec::with_capacity(4)).await.unwrap();
            assert_eq!((n.unwrap(), buf.as_slice()), (4, &b"roun"[..]));
            // An error comes back as an error, with the buffer.
            let wrong_way = Pipe {
                reader: Arc::clone(&pipe.writer),
                writer: Arc::clone(&pipe.reader),
            };
            let (n, buf) = wrong_way.read(Vec::with_capacity(8)).await.unwrap();
            assert_eq!(n.unwrap_err().raw_os_error(), Some(libc::EBADF));
            assert_eq!(buf.capacity(), 8);
            assert!(stats().completions >= 3);
        })
        .unwrap();
}
