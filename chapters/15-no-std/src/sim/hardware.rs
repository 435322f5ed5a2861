//! The simulated board's peripherals, as registers a thread (or a test's
//! script) changes: a tick counter with one alarm, and a UART receiver with
//! a one-byte data register.

use super::signals::{self, Irq};
use crate::executor::Wfi;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use std::vec::Vec;

/// The tick counter (one tick is a millisecond in real time).
static NOW: AtomicU64 = AtomicU64::new(0);
/// The alarm's compare register; `OFF` when disarmed.
static ALARM: AtomicU64 = AtomicU64::new(OFF);
const OFF: u64 = u64::MAX;
/// The UART's data register: the byte, and bit 8 set while it is unread.
static RX: AtomicU16 = AtomicU16::new(0);
const RX_FULL: u16 = 0x100;
/// The CPU's sleeps so far, and whether it is asleep now (for the watchdog).
static SLEPT: AtomicUsize = AtomicUsize::new(0);
static ASLEEP: AtomicBool = AtomicBool::new(false);
/// The watchdog found the CPU asleep with nothing left to wake it.
static WATCHDOG_FIRED: AtomicBool = AtomicBool::new(false);
/// Bytes that arrived before the previous one was read.
static OVERRUNS: AtomicUsize = AtomicUsize::new(0);

pub fn now() -> u64 {
    NOW.load(Ordering::SeqCst)
}

/// Programs the alarm. Generous hardware: an alarm for a moment that has
/// passed goes off at once (a real compare register would miss it, and its
/// driver would have to check the counter again after arming).
pub(crate) fn set_alarm(at: u64) {
    ALARM.store(at, Ordering::SeqCst);
    alarm_if_due();
}

fn alarm_if_due() -> bool {
    let at = ALARM.load(Ordering::SeqCst);
    if at != OFF
        && at <= now()
        && ALARM
            .compare_exchange(at, OFF, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        signals::raise(Irq::Timer);
        return true;
    }
    false
}

/// Reads the UART's data register, which empties it.
pub(crate) fn uart_take() -> Option<u8> {
    let register = RX.swap(0, Ordering::SeqCst);
    (register & RX_FULL != 0).then_some(register as u8)
}

fn receive(byte: u8) {
    if RX.swap(RX_FULL | u16::from(byte), Ordering::SeqCst) & RX_FULL != 0 {
        OVERRUNS.fetch_add(1, Ordering::SeqCst);
    }
    signals::raise(Irq::Uart);
}

pub(crate) fn overruns() -> usize {
    OVERRUNS.load(Ordering::SeqCst)
}

// ANCHOR: step
/// One thing that happens to the hardware, in a scripted machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The counter advances this many ticks.
    Ticks(u64),
    /// The counter advances to the alarm, which goes off.
    ToAlarm,
    /// The UART receives this byte.
    Rx(u8),
}
// ANCHOR_END: step

impl Step {
    /// One `Rx` per byte.
    pub fn bytes(bytes: &[u8]) -> impl Iterator<Item = Step> + '_ {
        bytes.iter().map(|&b| Step::Rx(b))
    }

    fn apply(self) {
        match self {
            Step::Ticks(n) => {
                NOW.fetch_add(n, Ordering::SeqCst);
                alarm_if_due();
            }
            Step::ToAlarm => {
                let at = ALARM.load(Ordering::SeqCst);
                if at != OFF {
                    NOW.fetch_max(at, Ordering::SeqCst);
                }
                alarm_if_due();
            }
            Step::Rx(byte) => receive(byte),
        }
    }
}

#[derive(Default)]
struct Script {
    on: bool,
    steps: VecDeque<Step>,
    /// Critical-section exits (windows) at which the next step happens at
    /// once instead of when the CPU next sleeps, ascending.
    early: VecDeque<usize>,
    windows: usize,
}

static SCRIPT: Mutex<Script> = Mutex::new(Script {
    on: false,
    steps: VecDeque::new(),
    early: VecDeque::new(),
    windows: 0,
});

fn script() -> MutexGuard<'static, Script> {
    SCRIPT.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn reset() {
    NOW.store(0, Ordering::SeqCst);
    ALARM.store(OFF, Ordering::SeqCst);
    RX.store(0, Ordering::SeqCst);
    OVERRUNS.store(0, Ordering::SeqCst);
    WATCHDOG_FIRED.store(false, Ordering::SeqCst);
    *script() = Script::default();
}

pub(crate) fn start_script(steps: impl IntoIterator<Item = Step>) {
    let mut script = script();
    script.on = true;
    script.steps = steps.into_iter().collect();
}

pub(crate) fn step_early_at(windows: &[usize]) {
    let mut early: Vec<usize> = windows.to_vec();
    early.sort_unstable();
    script().early = early.into();
}

pub(crate) fn windows() -> usize {
    script().windows
}

pub(crate) fn steps_left() -> usize {
    script().steps.len()
}

// ANCHOR: idle
/// The executor has nothing to do (we are in its critical section). In a
/// scripted machine the hardware moves on to its next step now, until one
/// raises an interrupt; then the CPU waits for it.
pub(crate) fn idle() -> Wfi {
    {
        let mut script = script();
        if script.on {
            while !signals::any_pending() {
                let Some(step) = script.steps.pop_front() else {
                    return Wfi::Never;
                };
                step.apply();
            }
        }
    }
    ASLEEP.store(true, Ordering::SeqCst);
    signals::wait_for_interrupt();
    ASLEEP.store(false, Ordering::SeqCst);
    SLEPT.fetch_add(1, Ordering::SeqCst);
    if WATCHDOG_FIRED.load(Ordering::SeqCst) {
        return Wfi::Never;
    }
    Wfi::Interrupted
}

/// A critical section is ending on the CPU (task context). If the script
/// says so, its next step happens now: the interrupt it raises is taken at
/// the first instruction after the section, as on real hardware.
pub(crate) fn at_window() {
    let mut script = script();
    if !script.on {
        return;
    }
    script.windows += 1;
    if script.early.front() == Some(&script.windows) {
        script.early.pop_front();
        if let Some(step) = script.steps.pop_front() {
            step.apply();
        }
    }
}
// ANCHOR_END: idle

/// A thread of the simulation (the hardware, the watchdog) that is stopped
/// and joined when this is dropped. The body gets the stop flag.
pub(crate) struct Helper {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Helper {
    fn spawn(
        name: &str,
        body: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> std::io::Result<Helper> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&flag))
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    std::format!("cannot start the {name} thread: {e}"),
                )
            })?;
        Ok(Helper {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// The hardware in real time: a thread that advances the counter every
/// millisecond and feeds the UART `(tick, byte)` pairs, each no earlier than
/// its tick and not before the byte before it was read.
pub(crate) fn real_time(feed: &[(u64, u8)]) -> std::io::Result<Helper> {
    let mut feed: VecDeque<(u64, u8)> = feed.iter().copied().collect();
    Helper::spawn("hardware", move |stop| {
        let start = Instant::now();
        let mut tick = 0;
        while !stop.load(Ordering::SeqCst) {
            tick += 1;
            let at = start + Duration::from_millis(tick);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            NOW.store(tick, Ordering::SeqCst);
            alarm_if_due();
            // Flow control: the next byte waits until the data register
            // was read, so that a CPU the host is slow to schedule loses
            // nothing (and the demo prints the same every time). Scripted
            // steps have no such courtesy.
            if let Some(&(when, byte)) = feed.front()
                && when <= tick
                && RX.load(Ordering::SeqCst) & RX_FULL == 0
            {
                feed.pop_front();
                receive(byte);
            }
        }
    })
}

/// For scripted machines: a CPU that sleeps through an interrupt that was
/// pending (a lost wake-up) would sleep forever, since a script raises
/// nothing on its own. After `WATCHDOG_LIMIT` asleep in one wait, the
/// watchdog interrupts it and the run ends as stalled: a failure, not a hang.
pub(crate) fn watchdog() -> std::io::Result<Helper> {
    Helper::spawn("watchdog", |stop| {
        let (mut seen, mut since) = (SLEPT.load(Ordering::SeqCst), Instant::now());
        while !stop.load(Ordering::SeqCst) {
            std::thread::park_timeout(
                WATCHDOG_LIMIT.saturating_sub(since.elapsed()),
            );
            let slept = SLEPT.load(Ordering::SeqCst);
            if slept != seen || !ASLEEP.load(Ordering::SeqCst) {
                (seen, since) = (slept, Instant::now());
            } else if since.elapsed() >= WATCHDOG_LIMIT {
                WATCHDOG_FIRED.store(true, Ordering::SeqCst);
                signals::raise(Irq::Pend);
                return;
            }
        }
    })
}

const WATCHDOG_LIMIT: Duration = Duration::from_secs(10);
