//! A burst far larger than the ring: a submission queue of two entries and a
//! completion queue of four. Submissions wait (the queue is flushed and the
//! push retried), completions that do not fit wait in the kernel (the next
//! enter fetches them), and none is lost.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{Runtime, runtime_or_skip, spawn, yield_now};
use ch14_performance::op::{Op, Operation, Pipe, Read, nop};
use io_uring::squeue;
use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::rc::Rc;

#[test]
fn ten_thousand_operations_through_a_ring_of_two_entries() {
    if runtime_or_skip().is_none() {
        return;
    }
    let mut runtime = Runtime::with_entries(2).unwrap();
    let done = Rc::new(Cell::new(0u32));
    let count = Rc::clone(&done);
    runtime
        .block_on(async move {
            for _ in 0..10_000 {
                let count = Rc::clone(&count);
                spawn(async move {
                    nop().await.unwrap().unwrap();
                    count.set(count.get() + 1);
                });
            }
        })
        .unwrap();
    assert_eq!(done.get(), 10_000);
    assert!(
        runtime.stats().full_queue_flushes > 1_000,
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
    if runtime_or_skip().is_none() {
        return;
    }
    const READS: usize = 64;
    let mut runtime = Runtime::with_entries(2).unwrap();
    runtime
        .block_on(async move {
            let pipes: Vec<Pipe> =
                (0..READS).map(|_| Pipe::new().unwrap()).collect();
            let mut tasks = Vec::new();
            for (i, pipe) in pipes.iter().enumerate() {
                let read = Op::new(WorkerRead(Read {
                    fd: Rc::clone(&pipe.reader),
                    buf: Vec::with_capacity(8),
                }));
                tasks.push(spawn(async move {
                    let (n, buf) = read.await.unwrap();
                    assert_eq!(&buf[..n.unwrap()], &(i as u64).to_le_bytes());
                }));
            }
            yield_now().await; // every read blocked in a kernel worker
            // All the data at once, from a thread of ours: the workers post
            // 64 completions into a queue of 4 while this thread sleeps.
            let writers: Vec<_> =
                pipes.iter().map(|p| Rc::clone(&p.writer)).collect();
            let raw: Vec<i32> = writers.iter().map(|w| w.as_raw_fd()).collect();
            std::thread::spawn(move || {
                for (i, fd) in raw.into_iter().enumerate() {
                    let data = (i as u64).to_le_bytes();
                    // SAFETY: 8 bytes from a live array, to a descriptor the
                    // runtime's thread keeps open until the reads are done.
                    unsafe { libc::write(fd, data.as_ptr().cast(), 8) };
                }
            })
            .join()
            .unwrap();
            // The kernel's workers post the completions on their own time:
            // give them that time before this thread reaps again (it reaps
            // nothing while it sleeps here), so that they overflow the queue
            // rather than trickle into it as it is emptied.
            std::thread::sleep(std::time::Duration::from_millis(200));
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
