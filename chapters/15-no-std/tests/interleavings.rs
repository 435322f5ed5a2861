//! Every moment an interrupt can arrive, tried. On one core an interrupt is
//! taken the moment interrupts are unmasked, that is, at the end of a
//! critical section; the task code between sections touches nothing the
//! handlers touch. So running a scenario once per critical-section exit,
//! with the hardware's next step happening exactly there, tries every
//! interleaving of that step with the scenario.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch15_no_std::sim::{Machine, SIM, Step, timer, uart};
use ch15_no_std::{Executor, RunEnd, Task, WaitUntil, future_size};
use critical_section::CriticalSection;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Mutex;
use std::task::Poll;

/// Runs `spawn` on `executor` on a machine doing `steps`, the k-th of them at
/// critical-section exit `early[k]`; returns how it ended and how many
/// windows there were.
fn run(
    executor: &'static Executor,
    steps: &[Step],
    early: &[usize],
    spawn: impl FnOnce(),
) -> (RunEnd, usize) {
    let machine = Machine::scripted(steps.iter().copied()).unwrap();
    machine.step_early_at(early);
    spawn();
    let end = executor.run();
    let windows = machine.windows();
    critical_section::with(|cs| {
        assert_eq!(
            uart::UART.waiters().check(cs, 100),
            Ok(0),
            "UART list after {early:?}"
        );
        assert_eq!(
            timer::TIMER.waiters().check(cs, 100),
            Ok(0),
            "timer list after {early:?}"
        );
    });
    (end, windows)
}

/// Every choice of windows for `n` early steps (ascending, each in
/// `1..=last`), plus none.
fn choices(n: usize, last: usize) -> Vec<Vec<usize>> {
    let mut all = vec![vec![]];
    let mut partial: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..n {
        let mut longer = Vec::new();
        for p in &partial {
            let from = p.last().map_or(1, |&w| w);
            for w in from..=last {
                let mut q = p.clone();
                q.push(w);
                longer.push(q);
            }
        }
        all.extend(longer.iter().cloned());
        partial = longer;
    }
    all
}

// ANCHOR: reader
static READS: Executor = Executor::new(&SIM);
static READER: Task<{ future_size(&reader) }> = Task::new("reader");
static READ: Mutex<Vec<u8>> = Mutex::new(Vec::new());

async fn reader() {
    for _ in 0..2 {
        let byte = uart::read_byte().await;
        READ.lock().unwrap().push(byte);
    }
}

#[test]
fn bytes_arriving_at_every_possible_moment_are_all_read() {
    let steps = [Step::Rx(b'a'), Step::Rx(b'b')];
    let spawn = || {
        READ.lock().unwrap().clear();
        READS.spawn(&READER, reader()).unwrap();
    };
    let (end, windows) = run(&READS, &steps, &[], spawn);
    assert_eq!(end, RunEnd::AllFinished);
    let tried = choices(2, windows + 1);
    for early in &tried {
        let (end, _) = run(&READS, &steps, early, spawn);
        assert_eq!(
            end,
            RunEnd::AllFinished,
            "bytes at windows {early:?}: the reader stalled"
        );
        assert_eq!(*READ.lock().unwrap(), b"ab", "bytes at windows {early:?}");
    }
    assert!(tried.len() > 20, "only {} interleavings", tried.len());
    eprintln!("{} interleavings over {windows} windows", tried.len());
}
// ANCHOR_END: reader

// ANCHOR: drop-while-firing
static DROPS: Executor = Executor::new(&SIM);
static DROPPER: Task<{ future_size(&dropper) }> = Task::new("dropper");

type Never = fn(CriticalSection<'_>) -> Option<u8>;

/// Links two waiters, drops one, then waits on the other: the byte's
/// interrupt lands before, during and after each of those.
async fn dropper() {
    let mut kept = pin!(uart::UART.wait_until(0, uart::pop));
    let mut got = None;
    {
        let never: WaitUntil<Never> = uart::UART.wait_until(0, |_| None);
        let mut dropped = pin!(never);
        poll_fn(|cx| {
            let _ = dropped.as_mut().poll(cx);
            got = match kept.as_mut().poll(cx) {
                Poll::Ready(byte) => Some(byte),
                Poll::Pending => None,
            };
            Poll::Ready(())
        })
        .await;
        critical_section::with(|cs| uart::UART.waiters().check(cs, 100)).unwrap();
    }
    critical_section::with(|cs| uart::UART.waiters().check(cs, 100)).unwrap();
    let byte = match got {
        Some(byte) => byte,
        None => kept.await,
    };
    assert_eq!(byte, b'x');
}

#[test]
fn a_waiter_dropped_at_any_moment_around_its_interrupt_leaves_a_sound_list() {
    let steps = [Step::Rx(b'x')];
    let spawn = || DROPS.spawn(&DROPPER, dropper()).unwrap();
    let (end, windows) = run(&DROPS, &steps, &[], spawn);
    assert_eq!(end, RunEnd::AllFinished);
    for early in choices(1, windows + 1) {
        let (end, _) = run(&DROPS, &steps, &early, spawn);
        assert_eq!(end, RunEnd::AllFinished, "byte at window {early:?}");
    }
}
// ANCHOR_END: drop-while-firing

static SLEEPS: Executor = Executor::new(&SIM);
static SLEEPY: Task<{ future_size(&sleepers) }> = Task::new("sleepers");

/// Two sleeps at once, through one alarm register.
async fn sleepers() {
    let first = pin!(timer::sleep_until(5));
    let second = pin!(timer::sleep_until(9));
    let (mut first, mut second) = (Some(first), Some(second));
    poll_fn(|cx| {
        if first
            .as_mut()
            .is_some_and(|f| f.as_mut().poll(cx).is_ready())
        {
            first = None;
        }
        if second
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready())
        {
            second = None;
        }
        if first.is_none() && second.is_none() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    assert!(timer::now() >= 9);
}

#[test]
fn alarms_going_off_at_every_possible_moment_wake_every_sleeper() {
    let steps = [Step::ToAlarm, Step::ToAlarm];
    let spawn = || SLEEPS.spawn(&SLEEPY, sleepers()).unwrap();
    let (end, windows) = run(&SLEEPS, &steps, &[], spawn);
    assert_eq!(end, RunEnd::AllFinished);
    for early in choices(2, windows + 1) {
        let (end, _) = run(&SLEEPS, &steps, &early, spawn);
        assert_eq!(end, RunEnd::AllFinished, "alarms at windows {early:?}");
    }
}
