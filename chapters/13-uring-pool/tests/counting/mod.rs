//! A global allocator for tests that count memory: the system's, counting
//! the bytes allocated and the bytes live in the whole process (the pool's
//! threads allocate for the test too). Tests that count hold [`alone`], so
//! that the other tests of the same file do not allocate meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn count(size: usize, sign: isize) {
    if sign > 0 {
        ALLOCATED.fetch_add(size, Ordering::Relaxed);
    }
    LIVE.fetch_add(sign * size as isize, Ordering::Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counts are atomic integers, which neither allocate nor panic.
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

/// Held by a test while it counts: one counting test at a time.
#[allow(dead_code)] // a file with one test needs no turns
pub fn alone() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Bytes allocated and not yet freed, in the whole process.
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// Bytes allocated so far, freed or not, in the whole process.
#[allow(dead_code)] // not every test file that counts needs it
pub fn allocated_bytes() -> usize {
    ALLOCATED.load(Ordering::SeqCst)
}
