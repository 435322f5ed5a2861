//! The exercise solutions do what the exercises ask and leave no node behind.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch15_no_std::exercises::{Mailbox, TimedOut, read_byte_within};
use ch15_no_std::sim::{Machine, SIM, Step, timer, uart};
use ch15_no_std::{Executor, RunEnd, Task, future_size};
use std::sync::Mutex;

static RESULTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

static MAIL: Executor = Executor::new(&SIM);
static BOX: Mailbox<u32> = Mailbox::new();
static TAKER: Task<{ future_size(&taker) }> = Task::new("taker");
static PUTTER: Task<{ future_size(&putter) }> = Task::new("putter");

async fn taker() {
    for _ in 0..2 {
        let value = BOX.take().await;
        RESULTS.lock().unwrap().push(format!("took {value}"));
    }
}

async fn putter() {
    timer::sleep(1).await;
    critical_section::with(|cs| {
        assert_eq!(BOX.put(cs, 1), None);
        // Not taken yet: replaced.
        assert_eq!(BOX.put(cs, 2), Some(1));
    });
    timer::sleep(1).await;
    critical_section::with(|cs| BOX.put(cs, 3));
}

#[test]
fn the_mailbox_hands_over_the_latest_value_and_wakes_its_taker() {
    let machine = Machine::scripted([Step::ToAlarm, Step::ToAlarm]).unwrap();
    RESULTS.lock().unwrap().clear();
    MAIL.spawn(&TAKER, taker()).unwrap();
    MAIL.spawn(&PUTTER, putter()).unwrap();
    assert_eq!(MAIL.run(), RunEnd::AllFinished);
    assert_eq!(*RESULTS.lock().unwrap(), ["took 2", "took 3"]);
    let wakes = machine
        .trace()
        .iter()
        .filter(|l| *l == "wake taker")
        .count();
    assert_eq!(wakes, 2, "{:?}", machine.trace());
}

static WITHIN: Executor = Executor::new(&SIM);
static TIMED: Task<{ future_size(&timed) }> = Task::new("timed");

async fn timed() {
    for _ in 0..2 {
        let got = read_byte_within(10).await;
        let lists = critical_section::with(|cs| {
            (uart::UART.waiters().len(cs), timer::TIMER.waiters().len(cs))
        });
        RESULTS
            .lock()
            .unwrap()
            .push(format!("{got:?}, waiters left {lists:?}"));
    }
}

#[test]
fn a_read_with_a_timeout_gets_the_byte_or_times_out_and_leaves_no_waiter() {
    // A byte in time, then nothing until the alarm.
    let machine = Machine::scripted([Step::Rx(b'k'), Step::ToAlarm]).unwrap();
    RESULTS.lock().unwrap().clear();
    WITHIN.spawn(&TIMED, timed()).unwrap();
    assert_eq!(WITHIN.run(), RunEnd::AllFinished);
    assert_eq!(
        *RESULTS.lock().unwrap(),
        [
            format!("{:?}, waiters left (0, 0)", Ok::<u8, TimedOut>(b'k')),
            format!("{:?}, waiters left (0, 0)", Err::<u8, TimedOut>(TimedOut))
        ]
    );
    assert!(timer::now() >= 10);
    drop(machine);
}
