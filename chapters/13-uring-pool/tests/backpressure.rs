//! A burst far larger than the ring: a submission queue of two entries and a
//! completion queue of four. Submissions wait (the queue is flushed and the
//! push retried), completions that do not fit wait in the kernel (the next
//! enter fetches them), and none is lost.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{Pool, pool_or_skip, spawn, until_submitted};
use ch13_uring_pool::op::{Op, Operation, Pipe, Read, nop};
use io_uring::squeue;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[test]
fn ten_thousand_operations_through_a_ring_of_two_entries() {
    if pool_or_skip(2).is_none() {
        return;
    }
    // No bound on operations in flight beyond what the test sends, so that
    // the submission queue itself fills up.
    let runtime = Pool::builder()
        .entries(2)
        .max_in_flight(10_000)
        .build()
        .unwrap();
    let done = Arc::new(AtomicU32::new(0));
    let count = Arc::clone(&done);
    runtime
        .block_on(async move {
            for _ in 0..10_000 {
                let count = Arc::clone(&count);
                spawn(async move {
                    nop().await.unwrap().unwrap();
                    count.fetch_add(1, Ordering::SeqCst);
                });
            }
        })
        .unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 10_000);
    assert!(
        runtime.stats().full_queue_flushes > 0,
        "{:?}",
        runtime.stats()
    );
}

/// A pipe read that the kernel hands to one of its worker threads at once
/// (`IOSQE_ASYNC`): the worker blocks in the read, and when data comes it
/// posts the completion itself, while this thread is not in the kernel.
struct WorkerRead(Read);

impl Operation for WorkerRead {
    type Output = (std::io::Result<usize>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        self.0.entry().flags(squeue::Flags::ASYNC)
    }
    fn complete(self, result: i32) -> Self::Output {
        self.0.complete(result)
    }
}

#[test]
fn completions_beyond_the_completion_queue_wait_in_the_kernel_and_all_arrive() {
    if pool_or_skip(2).is_none() {
        return;
    }
    const READS: usize = 64;
    let runtime = Pool::builder()
        .entries(2)
        .max_in_flight(1_000)
        .build()
        .unwrap();
    runtime
        .block_on(async move {
            let pipes: Vec<Pipe> =
                (0..READS).map(|_| Pipe::new().unwrap()).collect();
            let mut tasks = Vec::new();
            for (i, pipe) in pipes.iter().enumerate() {
                let read = Op::new(WorkerRead(Read {
                    fd: Arc::clone(&pipe.reader),
                    buf: Vec::with_capacity(8),
                }));
                tasks.push(spawn(async move {
                    let (n, buf) = read.await.unwrap();
                    assert_eq!(&buf[..n.unwrap()], &(i as u64).to_le_bytes());
                }));
            }
            // Every read submitted (the ring thread went back to sleep with
            // all of them in flight, each blocked in a kernel worker).
            until_submitted().await;
            let writers: Vec<_> =
                pipes.iter().map(|p| Arc::clone(&p.writer)).collect();
            // All the data at once while this thread holds the reactor's
            // core: the ring thread takes the first four completions off
            // the ring and then waits for the core, while the kernel's
            // workers post the other sixty into a full queue.
            ch13_uring_pool::reactor::with(|_| {
                for (i, writer) in writers.iter().enumerate() {
                    let data = (i as u64).to_le_bytes();
                    // SAFETY: 8 bytes from a live array, to a descriptor
                    // kept open (in `writers`) until the reads are done.
                    unsafe {
                        libc::write(writer.as_raw_fd(), data.as_ptr().cast(), 8)
                    };
                }
                // Time for the kernel's workers to post every completion.
                std::thread::sleep(std::time::Duration::from_millis(200));
            });
            for task in tasks {
                task.await.unwrap();
            }
            drop(writers);
        })
        .unwrap();
    let stats = runtime.stats();
    assert!(
        stats.cq_overflows > 0,
        "the queue never overflowed: {stats:?}"
    );
}
