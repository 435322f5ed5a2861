//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch05_reactor_waker::exercises::{oneshot, sleep};
use ch05_reactor_waker::join_all::join_all;
use ch05_reactor_waker::runtime::block_on;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn sleep_is_woken_by_its_timer_thread() {
    let started = Instant::now();
    let finished = block_on(sleep(Duration::from_millis(50)));
    // A lower bound only: it must not finish early.
    assert!(started.elapsed() >= Duration::from_millis(50));
    // Polled at the start and once more when woken (park may add one).
    assert!(finished.polls <= 3, "{} polls", finished.polls);
}

#[test]
fn joined_sleeps_finish_shortest_first() {
    let sleeps = [120, 10, 60].map(|ms| sleep(Duration::from_millis(ms)));
    let finished = block_on(join_all(sleeps));
    assert_eq!(finished.output.finish_order, [1, 2, 0]);
}

#[test]
fn a_oneshot_value_sent_from_another_thread_arrives() {
    for round in 0..1000 {
        let (sender, receiver) = oneshot();
        let writer = thread::spawn(move || sender.send(round));
        assert_eq!(block_on(receiver).output, Some(round));
        writer.join().unwrap();
    }
}

#[test]
fn a_dropped_sender_wakes_the_receiver_with_none() {
    let (sender, receiver) = oneshot::<u32>();
    let dropper = thread::spawn(move || drop(sender));
    assert_eq!(block_on(receiver).output, None);
    dropper.join().unwrap();
}
