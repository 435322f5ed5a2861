//! A global allocator for tests that count memory: the system's, counting
//! for each thread the bytes allocated and the bytes live. The runtime is
//! single-threaded, so a test's own thread sees all of its allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn count(size: usize, sign: isize) {
    if sign > 0 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + size));
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
    let _ = LIVE.try_with(|l| l.set(l.get() + sign * size as isize));
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counts are thread-local integers, which neither allocate nor panic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        // SAFETY: passed on from the caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(layout.size(), -1);
        // SAFETY: passed on from the caller.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated and not yet freed by this thread.
#[allow(dead_code)] // not every test file that counts needs it
pub fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// Bytes this thread has allocated so far, freed or not.
#[allow(dead_code)] // not every test file that counts needs it
pub fn allocated_bytes() -> usize {
    ALLOCATED.with(Cell::get)
}

/// Allocations this thread has made so far.
#[allow(dead_code)] // not every test file that counts needs it
pub fn allocations() -> usize {
    COUNT.with(Cell::get)
}
