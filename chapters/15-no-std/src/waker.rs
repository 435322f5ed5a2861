//! A waker that is one pointer: the task's header, with a static vtable.
//! Cloning copies the pointer, dropping does nothing; there is no count to
//! keep, because the task is `'static` and outlives every waker.

use crate::executor::Event;
use crate::task::{QUEUED, SPAWNED, TaskRef};
use core::sync::atomic::Ordering;
use core::task::{RawWaker, RawWakerVTable, Waker};

// ANCHOR: vtable
/// A `static`, not a `const`: its one address is how [`task_of`] tells our
/// wakers from anyone else's.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

unsafe fn clone(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: every RawWaker with this vtable was made by `waker` (or
    // `clone`) from a TaskRef.
    let task = unsafe { TaskRef::from_ptr(data) };
    wake_task(task);
}

unsafe fn drop(_data: *const ()) {}

/// The waker for `task`.
pub fn waker(task: TaskRef) -> Waker {
    // SAFETY: the vtable's functions treat `data` as the TaskRef it is, and
    // they are thread-safe (below, only atomics), as `Waker` requires.
    unsafe { Waker::new(task.as_ptr(), &VTABLE) }
}

/// The task behind `waker`, if it is one of ours.
pub fn task_of(waker: &Waker) -> Option<TaskRef> {
    if core::ptr::eq(waker.vtable(), &VTABLE) {
        // SAFETY: our vtable, so `data` came from a TaskRef.
        Some(unsafe { TaskRef::from_ptr(waker.data()) })
    } else {
        None
    }
}
// ANCHOR_END: vtable

// ANCHOR: wake
/// Queues `task` on its executor unless it is queued already or has no
/// future. Atomics only: safe from an interrupt handler and from any thread.
pub fn wake_task(task: TaskRef) {
    let header = task.header();
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & SPAWNED == 0 || state & QUEUED != 0 {
            // Finished (a stale waker: harmless), or already going to run.
            return;
        }
        match header.state.compare_exchange_weak(
            state,
            state | QUEUED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => break,
            Err(now) => state = now,
        }
    }
    // The task was dequeued at least once since `spawn` set QUEUED, so the
    // executor pointer `spawn` stored is visible to us.
    let executor = header.executor.load(Ordering::Acquire);
    // SAFETY: `spawn` stored a `&'static Executor` before queueing the task.
    let executor = unsafe { &*executor };
    executor.trace(Event::Wake(task.name()));
    executor.enqueue(task);
}
// ANCHOR_END: wake
