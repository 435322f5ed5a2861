//! The host simulation of a small board, because this book's machines have
//! no microcontroller: the thread that calls [`Machine::scripted`] or
//! [`Machine::real_time`] plays the CPU, real-time signals play its
//! interrupts, and the peripherals are registers that a script (in tests)
//! or a thread (in real time) changes. The executor and the drivers do not
//! know the difference.

mod hardware;
mod signals;
pub mod timer;
mod trace;
pub mod uart;

pub use hardware::Step;
pub use signals::Irq;

use crate::executor::{Event, Platform, Wfi};
use critical_section::CriticalSection;
use std::io;
use std::string::String;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

// ANCHOR: platform
/// The [`Platform`] of the simulated board, for `Executor::new(&SIM)`.
pub struct Sim;
pub static SIM: Sim = Sim;

impl Platform for Sim {
    fn wait_for_interrupt(&self, _cs: CriticalSection<'_>) -> Wfi {
        hardware::idle()
    }

    fn pend(&self) {
        signals::pend();
    }

    fn trace(&self, event: Event) {
        trace::event(event);
    }
}
// ANCHOR_END: platform

/// One machine at a time in a process: its hardware is `static`.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running simulated board; the thread that made it is its CPU. Dropping
/// it stops the hardware.
pub struct Machine {
    /// The hardware thread (real time) or the watchdog (scripted).
    helper: Option<hardware::Helper>,
    _one: MutexGuard<'static, ()>,
}

impl Machine {
    fn start() -> io::Result<MutexGuard<'static, ()>> {
        let one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        signals::install()?;
        hardware::reset();
        uart::reset();
        trace::clear();
        signals::set_cpu_to_this_thread(true);
        Ok(one)
    }

    /// A machine whose hardware does `steps`, one each time the CPU goes to
    /// sleep (and at chosen critical-section exits, see
    /// [`Machine::step_early_at`]). When the steps run out, the executor
    /// stops instead of sleeping forever: `RunEnd::Stalled`.
    pub fn scripted(steps: impl IntoIterator<Item = Step>) -> io::Result<Machine> {
        let one = Machine::start()?;
        hardware::start_script(steps);
        let watchdog = hardware::watchdog()?;
        Ok(Machine {
            helper: Some(watchdog),
            _one: one,
        })
    }

    /// A machine whose counter ticks every millisecond and whose UART
    /// receives `(tick, byte)` pairs on time (with flow control: a byte
    /// waits for the one before it to be read), from a hardware thread.
    pub fn real_time(uart_feed: &[(u64, u8)]) -> io::Result<Machine> {
        let one = Machine::start()?;
        let real_time = hardware::real_time(uart_feed)?;
        Ok(Machine {
            helper: Some(real_time),
            _one: one,
        })
    }

    /// Makes the next scripted step happen at the `n`th critical-section
    /// exit on the CPU (counting from 1), for each `n` in `windows`, instead
    /// of waiting for the CPU to sleep: an interrupt at a chosen moment.
    pub fn step_early_at(&self, windows: &[usize]) {
        hardware::step_early_at(windows);
    }

    /// Critical-section exits on the CPU so far (scripted machines).
    pub fn windows(&self) -> usize {
        hardware::windows()
    }

    /// Scripted steps not done yet.
    pub fn steps_left(&self) -> usize {
        hardware::steps_left()
    }

    /// What happened, one line per event: `spawn blink`, `poll blink`,
    /// `sleep`, `irq timer`, `wake blink`, `finish blink`.
    pub fn trace(&self) -> Vec<String> {
        trace::lines()
    }

    /// Makes `irq` pending from outside, as a peripheral would (from any
    /// thread); its handler runs on the CPU.
    pub fn raise(&self, irq: Irq) {
        signals::raise(irq);
    }

    /// How many times `irq`'s handler ran.
    pub fn interrupts(&self, irq: Irq) -> usize {
        signals::taken(irq)
    }

    /// Bytes the UART received while its data register was still full.
    pub fn overruns(&self) -> usize {
        hardware::overruns()
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // Stop the hardware thread first: it must not signal a CPU thread
        // that may end after this.
        self.helper.take();
        signals::set_cpu_to_this_thread(false);
        hardware::reset();
    }
}
