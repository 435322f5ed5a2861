//! Wakes from other threads, at whatever moment they happen to come: each
//! one is seen, none is lost while the CPU decides to sleep. (The
//! interleavings with interrupts are tried one by one in
//! `interleavings.rs`; a second thread's timing cannot be chosen, so this
//! test makes many and checks that every one got through.)

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch15_no_std::sim::{Irq, Machine, SIM};
use ch15_no_std::{Executor, RunEnd, Task, future_size};
use std::future::poll_fn;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

static PONG: Executor = Executor::new(&SIM);
static PONGER: Task<{ future_size(&ponger) }> = Task::new("ponger");
static ROUND: AtomicU32 = AtomicU32::new(0);
static ANSWERED: AtomicU32 = AtomicU32::new(0);
static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
static LOST: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static STOP: AtomicBool = AtomicBool::new(false);
const ROUNDS: u32 = 20_000;

/// Answers each round the other thread starts; needs a wake for each.
async fn ponger() {
    while ANSWERED.load(Ordering::SeqCst) < ROUNDS && !STOP.load(Ordering::SeqCst) {
        poll_fn(|cx| {
            *WAKER.lock().unwrap() = Some(cx.waker().clone());
            let round = ROUND.load(Ordering::SeqCst);
            if round > ANSWERED.load(Ordering::SeqCst) {
                ANSWERED.store(round, Ordering::SeqCst);
                Poll::Ready(())
            } else if STOP.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

#[test]
fn every_wake_from_another_thread_is_seen() {
    let machine = Machine::real_time(&[]).unwrap();
    PONG.spawn(&PONGER, ponger()).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 1..=ROUNDS {
                ROUND.store(round, Ordering::SeqCst);
                if let Some(waker) = WAKER.lock().unwrap().take() {
                    waker.wake();
                }
                // A lost wake leaves the round unanswered for good: the CPU
                // sleeps with the task queued. The deadline only turns that
                // hang into a failure (the interrupt lets the CPU go on, to
                // see STOP, so that the test can end).
                let deadline = Instant::now() + Duration::from_secs(10);
                while ANSWERED.load(Ordering::SeqCst) < round {
                    if Instant::now() > deadline {
                        LOST.lock().unwrap().push(round);
                        STOP.store(true, Ordering::SeqCst);
                        machine.raise(Irq::Pend);
                        return;
                    }
                    std::thread::yield_now();
                }
            }
        });
        assert_eq!(PONG.run(), RunEnd::AllFinished);
    });
    assert_eq!(*LOST.lock().unwrap(), [0; 0], "rounds whose wake was lost");
    assert_eq!(ANSWERED.load(Ordering::SeqCst), ROUNDS);
    // Some wakes found the CPU asleep and had to interrupt it.
    assert!(machine.interrupts(Irq::Pend) > 0);
}
