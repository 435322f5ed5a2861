//! The canary: a read's buffer is never written after its future is dropped
//! and the memory reused. Each round starts reads into owned buffers, drops
//! the futures while the reads are in flight, allocates and fills fresh
//! buffers of the same size (where freed memory would be reused), and only
//! then makes the data arrive. No fresh buffer may change.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{parked, poll_once, runtime_or_skip, yield_now};
use ch14_performance::op::Pipe;

const ROUNDS: usize = 1_000;
const READS: usize = 4;
const SIZE: usize = 4096;

#[test]
fn dropped_reads_never_write_into_reused_memory() {
    let Some(mut runtime) = runtime_or_skip() else {
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
                yield_now().await; // a reactor turn: the reads reach the kernel
                drop(reads); // in flight: their buffers are parked, not freed
                assert_eq!(parked(), READS, "round {round}");
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
