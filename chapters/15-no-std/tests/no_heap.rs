//! The executor, its wakers and the interrupt lists never allocate: counted
//! with a global allocator while tasks spawn, sleep, read the UART, wake
//! each other and are spawned again. Only the CPU thread's allocations count
//! (the executor, the tasks and the interrupt handlers all run on it); the
//! machine's watchdog thread may be starting up meanwhile.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch15_no_std::sim::{Machine, SIM, Step, timer, uart};
use ch15_no_std::{Executor, RunEnd, Task, future_size};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations count. Const-initialised and
    /// without a destructor, so reading it never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator; counting changes nothing else.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

static EXECUTOR: Executor = Executor::new(&SIM);
static READER: Task<{ future_size(&reader) }> = Task::new("reader");
static BLINKER: Task<{ future_size(&blinker) }> = Task::new("blinker");

async fn reader() {
    for _ in 0..3 {
        uart::read_byte().await;
    }
}

async fn blinker() {
    for _ in 0..3 {
        timer::sleep(5).await;
    }
    // Spawned again from a task, in the storage it just left.
    let _ = EXECUTOR.spawn(&READER, reader());
}

#[test]
fn spawning_waking_and_waiting_for_interrupts_allocate_nothing() {
    let mut steps: Vec<Step> = Step::bytes(b"abc").collect();
    steps.extend([Step::ToAlarm, Step::ToAlarm, Step::ToAlarm]);
    steps.extend(Step::bytes(b"def"));
    let machine = Machine::scripted(steps).unwrap();
    COUNTING.with(|c| c.set(true));
    EXECUTOR.spawn(&READER, reader()).unwrap();
    EXECUTOR.spawn(&BLINKER, blinker()).unwrap();
    let end = EXECUTOR.run();
    COUNTING.with(|c| c.set(false));
    assert_eq!(end, RunEnd::AllFinished);
    assert_eq!(machine.steps_left(), 0);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0);
}
