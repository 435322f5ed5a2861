//! The intrusive nodes are sound whatever the program does with the futures
//! that hold them: forgetting one, leaking one, dropping one while others
//! wait, moving one before its first poll.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch15_no_std::sim::{Machine, SIM, Step, uart};
use ch15_no_std::{Executor, RunEnd, Task, WaitUntil, future_size};
use critical_section::CriticalSection;
use std::future::{Future, poll_fn};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;

/// Linked waiters of the UART interrupt, after checking every link.
fn uart_waiters() -> usize {
    critical_section::with(|cs| uart::UART.waiters().check(cs, 100)).unwrap()
}

type Never = fn(CriticalSection<'_>) -> Option<u8>;

/// A waiter for the UART interrupt that is never satisfied.
fn waiter() -> WaitUntil<Never> {
    uart::UART.wait_until(0, |_| None)
}

/// Polls `future` once, from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) {
    poll_fn(|cx| {
        assert!(future.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
}

static OUTCOME: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note(what: impl Into<String>) {
    OUTCOME.lock().unwrap().push(what.into());
}

// ANCHOR: forget
static FORGETS: Executor = Executor::new(&SIM);
static FORGETFUL: Task<{ future_size(&forgetful) }> = Task::new("forgetful");

async fn forgetful() {
    // Made, moved and forgotten before any poll: nothing was linked, so
    // nothing points to where it was.
    let unpolled = waiter();
    let moved = [unpolled];
    std::mem::forget(moved);
    note(format!(
        "after forgetting an unpolled waiter: {}",
        uart_waiters()
    ));

    // Moved before its first poll, then polled where it ended up.
    let mut boxed = Box::pin(waiter());
    poll_once(boxed.as_mut()).await;
    note(format!("after polling a boxed waiter: {}", uart_waiters()));

    // Forgotten while linked. A pinned value can only be forgotten by
    // leaking its memory, so the node stays valid, and linked.
    std::mem::forget(boxed);
    note(format!("after leaking it: {}", uart_waiters()));

    // The interrupt wakes the leaked node (a spurious wake of this task)
    // along with this read's, and the list is whole and empty after.
    let byte = uart::read_byte().await;
    note(format!(
        "read {:?}; waiters left: {}",
        byte as char,
        uart_waiters()
    ));
}

#[test]
fn forgetting_a_waiter_never_leaves_the_list_pointing_at_dead_memory() {
    let machine = Machine::scripted([Step::Rx(b'z')]).unwrap();
    OUTCOME.lock().unwrap().clear();
    FORGETS.spawn(&FORGETFUL, forgetful()).unwrap();
    assert_eq!(FORGETS.run(), RunEnd::AllFinished);
    assert_eq!(
        *OUTCOME.lock().unwrap(),
        [
            "after forgetting an unpolled waiter: 0",
            "after polling a boxed waiter: 1",
            "after leaking it: 1",
            "read 'z'; waiters left: 0",
        ]
    );
    drop(machine);
}
// ANCHOR_END: forget

// ANCHOR: drop-middle
static DROPS: Executor = Executor::new(&SIM);
static DROPPER: Task<{ future_size(&dropper) }> = Task::new("dropper");

async fn dropper() {
    // Three waiters in memory the test owns, so that it can see whether
    // anything writes to the middle one after it was dropped.
    let mut slots: [MaybeUninit<WaitUntil<Never>>; 3] =
        [const { MaybeUninit::uninit() }; 3];
    for slot in &mut slots {
        let waiter = slot.write(waiter());
        // SAFETY: the waiter stays in `slots` until it is dropped in place
        // below: it is pinned from here on.
        poll_once(unsafe { Pin::new_unchecked(waiter) }).await;
    }
    note(format!("linked: {}", uart_waiters()));
    // SAFETY: initialised above and not used again; dropped in place, as a
    // pinned value must be, then its bytes are overwritten with zeros.
    unsafe {
        slots[1].as_mut_ptr().drop_in_place();
        slots[1].as_mut_ptr().write_bytes(0, 1);
    }
    note(format!("after dropping the middle one: {}", uart_waiters()));

    // The interrupt wakes what is linked; a node it reached through a stale
    // link would be written to (unlinked, its task taken).
    let byte = uart::read_byte().await;
    // SAFETY: the slot's bytes were all written by `write_bytes` above.
    let middle_bytes = unsafe {
        std::slice::from_raw_parts(
            slots[1].as_ptr().cast::<u8>(),
            size_of::<WaitUntil<Never>>(),
        )
    };
    let untouched = middle_bytes.iter().all(|&b| b == 0);
    note(format!(
        "read {:?}; waiters left: {}; dropped one untouched: {untouched}",
        byte as char,
        uart_waiters()
    ));
    for i in [0, 2] {
        // SAFETY: initialised above, dropped once.
        unsafe { slots[i].assume_init_drop() };
    }
}

#[test]
fn a_dropped_waiter_leaves_the_list_and_the_interrupt_never_touches_it() {
    let machine = Machine::scripted([Step::Rx(b'q')]).unwrap();
    OUTCOME.lock().unwrap().clear();
    DROPS.spawn(&DROPPER, dropper()).unwrap();
    assert_eq!(DROPS.run(), RunEnd::AllFinished);
    assert_eq!(
        *OUTCOME.lock().unwrap(),
        [
            "linked: 3",
            "after dropping the middle one: 2",
            "read 'q'; waiters left: 0; dropped one untouched: true",
        ]
    );
    drop(machine);
}
// ANCHOR_END: drop-middle

#[test]
fn a_waiter_polled_with_someone_elses_waker_refuses_and_links_nothing() {
    let _machine = Machine::scripted([]).unwrap();
    let mut waiter = Box::pin(waiter());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = waiter.as_mut().poll(&mut cx);
    }));
    let message = polled.unwrap_err();
    let message = message.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(
        message.contains("must run on this crate's Executor"),
        "{message}"
    );
    assert_eq!(uart_waiters(), 0);
}
