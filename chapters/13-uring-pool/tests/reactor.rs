//! The reactor's rules: an operation's entry is built exactly once, however
//! often its future is polled, and results come back with their buffers.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{poll_once, pool_or_skip, stats, yield_now};
use ch13_uring_pool::op::{Op, Operation, Pipe, check};
use io_uring::{opcode, squeue, types};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A one-byte read that counts how many times its entry is built. On an
/// empty pipe it cannot complete until the test writes, however fast the
/// ring thread is, so the polls before that write all find it in flight.
struct CountedRead {
    built: Arc<AtomicU32>,
    pipe: Pipe,
    buf: Box<[u8; 1]>,
}

impl Operation for CountedRead {
    type Output = ();
    fn entry(&mut self) -> squeue::Entry {
        self.built.fetch_add(1, Ordering::SeqCst);
        let fd = types::Fd(self.pipe.reader.as_raw_fd());
        opcode::Read::new(fd, self.buf.as_mut_ptr(), 1).build()
    }
    fn complete(self, result: i32) {
        assert_eq!(check(result).unwrap(), 1);
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
            let pipe = Pipe::new().unwrap();
            let writer = Arc::clone(&pipe.writer);
            let mut op = Op::new(CountedRead {
                built: b,
                pipe,
                buf: Box::new([0]),
            });
            // Polled three times per turn for three turns while it cannot
            // complete: queued, then in flight.
            for _ in 0..3 {
                for _ in 0..3 {
                    assert!(poll_once(&mut op).await.is_pending());
                }
                yield_now().await;
            }
            // SAFETY: one byte from a live local to an open pipe.
            let wrote =
                unsafe { libc::write(writer.as_raw_fd(), b"x".as_ptr().cast(), 1) };
            assert_eq!(wrote, 1);
            op.await.unwrap();
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
