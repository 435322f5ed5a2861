//! No wake-up is lost when the event fires between a poll and the park.
//!
//! Thousands of times: a future waits for a byte that another thread writes
//! as soon as it can, so the write lands before the poll, during it, between
//! the poll and the park, or after the park. If any of those lost the wake-up,
//! `block_on` would sleep forever; a watchdog turns that into a failure.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

mod support;

use ch07_std_future::executor::block_on;
use mio::net::UnixStream;
use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;
use support::ReadByte;

const ROUNDS: u32 = 5_000;

#[test]
fn no_wakeup_is_lost_under_stress() {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let (to_writer, writer_rx) = mpsc::channel::<UnixStream>();
        let writer = thread::spawn(move || {
            for (i, mut stream) in writer_rx.into_iter().enumerate() {
                // Vary the moment of the write a little, without sleeping.
                for _ in 0..(i % 64) {
                    std::hint::spin_loop();
                }
                stream.write_all(&[(i % 251) as u8]).unwrap();
            }
        });
        let mut polls = 0;
        for i in 0..ROUNDS {
            let (ours, theirs) = UnixStream::pair().unwrap();
            to_writer.send(theirs).unwrap();
            let finished = block_on(ReadByte::new(ours));
            assert_eq!(finished.output, (i % 251) as u8);
            polls += finished.polls;
        }
        drop(to_writer);
        writer.join().unwrap();
        done_tx.send(polls).unwrap();
    });
    // Generous: the rounds take well under a second each hundred; only a
    // lost wake-up (a hang) gets anywhere near this.
    let polls = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("block_on hung: a wake-up was lost");
    worker.join().unwrap();
    // Each round needs one poll, or two when the byte came after the first.
    assert!(
        polls >= u64::from(ROUNDS) && polls <= 3 * u64::from(ROUNDS),
        "{polls}"
    );
}
