//! The canary: a read's buffer is never written after its future is dropped
//! and the memory reused. Each round starts reads into owned buffers, drops
//! the futures while the reads are in flight, allocates and fills fresh
//! buffers of the same size (where freed memory would be reused), and only
//! then makes the data arrive. No fresh buffer may change.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::{
    parked, parked_and_stats, poll_once, pool_or_skip, stats, until_submitted,
    yield_now,
};
use ch13_uring_pool::op::Pipe;

const ROUNDS: usize = 1_000;
const READS: usize = 4;
const SIZE: usize = 4096;

#[test]
fn dropped_reads_never_write_into_reused_memory() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            for round in 0..ROUNDS {
                let pipes: Vec<Pipe> =
                    (0..READS).map(|_| Pipe::new().unwrap()).collect();
                let mut reads: Vec<_> = pipes
                    .iter()
                    .map(|p| p.read(Vec::with_capacity(SIZE)))
                    .collect();
                for read in &mut reads {
                    assert!(poll_once(read).await.is_pending());
                }
                until_submitted().await; // a reactor turn: the reads reach the kernel
                let finished_before = stats().parked_completions;
                drop(reads); // in flight: their buffers are parked, not freed
                // Each is parked still, or was, until its last completion
                // (the ring thread may have reaped some cancels already).
                let (parked_now, now) = parked_and_stats();
                let parked_then_freed = now.parked_completions - finished_before;
                assert_eq!(
                    parked_now + parked_then_freed as usize,
                    READS,
                    "round {round}"
                );
                let fresh: Vec<Vec<u8>> =
                    (0..READS * 4).map(|_| vec![0xAA; SIZE]).collect();
                for pipe in &pipes {
                    pipe.write_now(&[0x55; SIZE]).unwrap();
                }
                while parked() > 0 {
                    yield_now().await; // turns until the completions are reaped
                }
                for buf in &fresh {
                    assert!(
                        buf.iter().all(|&b| b == 0xAA),
                        "round {round}: a fresh buffer changed"
                    );
                }
            }
        })
        .unwrap();
}
