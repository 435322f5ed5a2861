//! Chapter 15's executor in a program that has no std: `#![no_std]`, no
//! allocator, its own panic handler (which would clash with std's if
//! anything in the build linked std), and C's `main` as the entry point. It
//! links the C library only for `write`, to say what happened.

#![no_std]
#![no_main]

use ch15_no_std::{Executor, Interrupt, Platform, RunEnd, Task, Wfi, future_size};
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};
use critical_section::CriticalSection;

// ANCHOR: bare
/// The program's one interrupt source: a tick. There is no hardware here,
/// so the idle hook "takes" the next tick itself.
static TICK: Interrupt = Interrupt::new();
static TICKS: AtomicU32 = AtomicU32::new(0);

struct Bare;
static BARE: Bare = Bare;

impl Platform for Bare {
    fn wait_for_interrupt(&self, cs: CriticalSection<'_>) -> Wfi {
        TICKS.fetch_add(1, Ordering::SeqCst);
        TICK.wake_all(cs);
        Wfi::Interrupted
    }
}

static EXECUTOR: Executor = Executor::new(&BARE);
static FIRST: Task<{ future_size(&count_ticks) }> = Task::new("first");
static SECOND: Task<{ future_size(&count_ticks) }> = Task::new("second");

async fn count_ticks(ticks: u32) {
    for _ in 0..ticks {
        let seen = TICKS.load(Ordering::SeqCst);
        TICK.wait_until(0, move |_| {
            (TICKS.load(Ordering::SeqCst) > seen).then_some(())
        })
        .await;
    }
}

/// One thread and no interrupt handlers: nothing can come between the
/// instructions of a critical section, so taking one does nothing.
struct NoInterrupts;
critical_section::set_impl!(NoInterrupts);
// SAFETY: this program has one thread and installs no signal handlers.
unsafe impl critical_section::Impl for NoInterrupts {
    unsafe fn acquire() -> u8 {
        0
    }
    unsafe fn release(_: u8) {}
}

#[unsafe(no_mangle)]
extern "C" fn main() -> i32 {
    let spawned = EXECUTOR.spawn(&FIRST, count_ticks(3)).is_ok()
        && EXECUTOR.spawn(&SECOND, count_ticks(5)).is_ok();
    let end = EXECUTOR.run();
    let ticks = TICKS.load(Ordering::SeqCst);
    let _ = writeln!(
        Stdout,
        "no std, no heap: spawned both: {spawned}; {end:?} after {ticks} ticks; \
         tasks of {} and {} bytes",
        size_of_val(&FIRST),
        size_of_val(&SECOND)
    );
    if end == RunEnd::AllFinished { 0 } else { 1 }
}
// ANCHOR_END: bare

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let _ = writeln!(Stdout, "panic: {info}");
    // SAFETY: abort has no preconditions.
    unsafe { abort() }
}

/// The precompiled `core` carries unwinding tables that name Rust's
/// personality routine, which std would provide. With `panic = "abort"`
/// nothing unwinds, so it is never called; the linker only needs the name.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

#[link(name = "c")]
unsafe extern "C" {
    fn write(fd: i32, buf: *const u8, len: usize) -> isize;
    fn abort() -> !;
}

struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: a valid buffer of `s.len()` bytes; fd 1 is stdout.
        let written = unsafe { write(1, s.as_ptr(), s.len()) };
        if written == s.len() as isize {
            Ok(())
        } else {
            Err(core::fmt::Error)
        }
    }
}
