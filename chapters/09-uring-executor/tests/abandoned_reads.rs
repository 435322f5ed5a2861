//! Thousands of reads on idle pipes, each started and then dropped: every
//! read is cancelled, so nothing stays parked, the memory of the buffers
//! comes back, and once the pipes are dropped their read ends are closed
//! (a writer gets `EPIPE`) and the count of open descriptors is what it was.
//! Alone in its file (its own process), so that the count of open
//! descriptors is exact; memory is counted by `counting`'s allocator.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod counting;

use ch09_uring_executor::executor::{
    parked, poll_once, runtime_or_skip, yield_now,
};
use ch09_uring_executor::op::Pipe;
use ch09_uring_executor::time::sleep;
use counting::live_bytes;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

const PIPES: usize = 2_000;
const BUFFER: usize = 4096;

#[test]
fn abandoned_idle_reads_are_cancelled_and_give_everything_back() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let fds_before = open_fds();
    let pipes: Vec<Pipe> = (0..PIPES).map(|_| Pipe::new().unwrap()).collect();
    let (memory_before, memory_after) = runtime
        .block_on(async {
            let memory_before = live_bytes();
            for pipe in &pipes {
                let mut read = pipe.read(Vec::with_capacity(BUFFER));
                assert!(poll_once(&mut read).await.is_pending());
                yield_now().await; // in the kernel now; then dropped
            }
            for _ in 0..10_000 {
                if parked() == 0 {
                    break;
                }
                sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(parked(), 0, "reads still in the kernel");
            (memory_before, live_bytes())
        })
        .unwrap();
    // What stays is the slot table's capacity, not buffers.
    let kept = memory_after - memory_before;
    let buffers = (PIPES * BUFFER) as isize;
    assert!(
        kept < buffers / 8,
        "{kept} bytes kept; the buffers were {buffers}"
    );
    // Keep only the write ends: no read stays open anywhere, so a write fails.
    let writers: Vec<Rc<OwnedFd>> = pipes.into_iter().map(|p| p.writer).collect();
    for (i, writer) in writers.iter().enumerate() {
        // SAFETY: one byte from a live array, to an open descriptor.
        let n =
            unsafe { libc::write(writer.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        let err = std::io::Error::last_os_error();
        assert_eq!(
            (n, err.raw_os_error()),
            (-1, Some(libc::EPIPE)),
            "pipe {i}: its read end is still open"
        );
    }
    drop(writers);
    assert_eq!(open_fds(), fds_before, "descriptors leaked");
}
