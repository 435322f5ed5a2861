//! Interrupts played by real-time signals on the thread that plays the CPU.
//!
//! | on a microcontroller             | here                                      |
//! |----------------------------------|-------------------------------------------|
//! | an interrupt line                | a real-time signal, `SIGRTMIN + n`        |
//! | its pending bit                  | [`PENDING`] (so raises coalesce)          |
//! | masking interrupts               | `pthread_sigmask(SIG_BLOCK, ..)`          |
//! | the critical section             | masking, plus a spinlock for other threads |
//! | `wfi` with interrupts masked     | `sigsuspend`: unmask and wait, atomically |

use super::{hardware, timer, trace, uart};
use libc::{c_int, sigset_t};
use std::format;
use std::io;
use std::string::String;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

// ANCHOR: irq
/// The simulated board's interrupts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Irq {
    /// The timer's alarm went off.
    Timer = 0,
    /// The UART received a byte.
    Uart = 1,
    /// Another thread woke a task (a wake from this thread needs none).
    Pend = 2,
}
// ANCHOR_END: irq

const IRQS: [Irq; 3] = [Irq::Timer, Irq::Uart, Irq::Pend];

impl Irq {
    pub fn name(self) -> &'static str {
        match self {
            Irq::Timer => "timer",
            Irq::Uart => "uart",
            Irq::Pend => "pend",
        }
    }

    fn signal(self) -> c_int {
        libc::SIGRTMIN() + self as c_int
    }

    fn from_signal(signal: c_int) -> Option<Irq> {
        IRQS.into_iter().find(|irq| irq.signal() == signal)
    }
}

/// The thread that plays the CPU (`pthread_self`), or 0 when no machine runs.
static CPU: AtomicUsize = AtomicUsize::new(0);
/// Per interrupt: raised and not taken yet.
static PENDING: [AtomicBool; 3] = [const { AtomicBool::new(false) }; 3];
/// Per interrupt: how many times its handler ran since the machine started.
static TAKEN: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

fn this_thread() -> usize {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() as usize }
}

fn irq_set() -> sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset with valid signals.
    unsafe {
        let mut set = std::mem::zeroed::<sigset_t>();
        libc::sigemptyset(&mut set);
        for irq in IRQS {
            libc::sigaddset(&mut set, irq.signal());
        }
        set
    }
}

/// Installs the interrupt handlers (once per process; a failure is kept and
/// reported to every later caller too).
pub(crate) fn install() -> io::Result<()> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| IRQS.into_iter().try_for_each(install_one))
        .clone()
        .map_err(io::Error::other)
}

fn install_one(irq: Irq) -> Result<(), String> {
    // SAFETY: a zeroed sigaction is a valid start; the handler is an
    // `extern "C" fn(c_int)` that is async-signal-safe (below).
    let failed = unsafe {
        let mut action = std::mem::zeroed::<libc::sigaction>();
        action.sa_sigaction =
            on_signal as extern "C" fn(c_int) as libc::sighandler_t;
        // While one handler runs, the others wait: one priority level.
        action.sa_mask = irq_set();
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(irq.signal(), &action, std::ptr::null_mut()) != 0
    };
    if failed {
        let why = io::Error::last_os_error();
        return Err(format!(
            "cannot install the handler for signal SIGRTMIN+{} (the simulated {} interrupt): {why}",
            irq as c_int,
            irq.name(),
        ));
    }
    Ok(())
}

pub(crate) fn set_cpu_to_this_thread(on: bool) {
    CPU.store(if on { this_thread() } else { 0 }, Ordering::SeqCst);
    for irq in IRQS {
        PENDING[irq as usize].store(false, Ordering::SeqCst);
        TAKEN[irq as usize].store(0, Ordering::SeqCst);
    }
}

pub(crate) fn taken(irq: Irq) -> usize {
    TAKEN[irq as usize].load(Ordering::SeqCst)
}

pub(crate) fn any_pending() -> bool {
    PENDING.iter().any(|p| p.load(Ordering::SeqCst))
}

// ANCHOR: handler
/// Every simulated interrupt enters here. Async-signal-safe: atomics, and
/// the drivers' handlers, which take the critical section (a spinlock and a
/// signal mask that is already in place) and touch only what it guards.
extern "C" fn on_signal(signal: c_int) {
    // SAFETY: errno is thread-local; saved and restored so the interrupted
    // code never sees it change.
    let errno = unsafe { *libc::__errno_location() };
    if let Some(irq) = Irq::from_signal(signal) {
        PENDING[irq as usize].store(false, Ordering::SeqCst);
        TAKEN[irq as usize].fetch_add(1, Ordering::SeqCst);
        trace::interrupt(irq.name());
        match irq {
            Irq::Timer => timer::on_interrupt(),
            Irq::Uart => uart::on_interrupt(),
            Irq::Pend => {}
        }
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Makes `irq` pending on the CPU; it is taken as soon as the CPU has it
/// unmasked. Raising a pending interrupt again does nothing, as on an NVIC.
pub(crate) fn raise(irq: Irq) {
    let cpu = CPU.load(Ordering::SeqCst);
    if cpu == 0 || PENDING[irq as usize].swap(true, Ordering::SeqCst) {
        return;
    }
    // SAFETY: `cpu` is the pthread_t of the CPU thread, which stays alive
    // while a machine runs (the machine is dropped on it, after joining the
    // hardware thread).
    unsafe { libc::pthread_kill(cpu as libc::pthread_t, irq.signal()) };
}
// ANCHOR_END: handler

/// For [`Platform::pend`](crate::Platform::pend): a wake on another thread
/// interrupts the CPU out of its sleep; on the CPU itself none is needed.
pub(crate) fn pend() {
    let cpu = CPU.load(Ordering::SeqCst);
    if cpu != 0 && cpu != this_thread() {
        raise(Irq::Pend);
    }
}

// ANCHOR: critical-section
/// Who holds the critical section (`pthread_self`), 0 when free.
static OWNER: AtomicUsize = AtomicUsize::new(0);
/// Restore-state bits: the thread held the lock already (a nested section).
const HELD_BEFORE: u8 = 1;
/// ... and had the interrupts masked already (nested, or in a handler).
const MASKED_BEFORE: u8 = 2;

struct SimCriticalSection;
critical_section::set_impl!(SimCriticalSection);

// SAFETY: a section masks this thread's interrupt signals (so no handler
// runs on it) and holds OWNER (so no other thread is in a section). The
// lock is only ever held with the signals masked, so a handler never spins
// on a lock its own thread holds. Sections nest: the inner one restores
// nothing it did not change.
unsafe impl critical_section::Impl for SimCriticalSection {
    unsafe fn acquire() -> u8 {
        let set = irq_set();
        // SAFETY: zeroed is a valid sigset_t to be overwritten.
        let mut old = unsafe { std::mem::zeroed::<sigset_t>() };
        // SAFETY: valid sets; pthread_sigmask is async-signal-safe.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
        // SAFETY: a valid, initialised set.
        let masked = unsafe { libc::sigismember(&old, Irq::Timer.signal()) } == 1;
        let mut state = if masked { MASKED_BEFORE } else { 0 };
        let me = this_thread();
        if OWNER.load(Ordering::Acquire) == me {
            state |= HELD_BEFORE;
        } else {
            lock(me);
        }
        state
    }

    unsafe fn release(state: u8) {
        if state & HELD_BEFORE == 0 {
            OWNER.store(0, Ordering::Release);
        }
        if state & MASKED_BEFORE == 0 {
            // Interrupts that became pending in the section are taken
            // right after this; a test script may make one pending here.
            hardware::at_window();
            let set = irq_set();
            // SAFETY: valid set; unmasks what `acquire` masked.
            unsafe {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut())
            };
        }
    }
}

fn lock(me: usize) {
    while OWNER
        .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
}
// ANCHOR_END: critical-section

// ANCHOR: wfi
/// `wfi` for the executor, which calls it in its critical section: lets
/// other threads have the lock, unmasks the interrupt signals and waits for
/// one, atomically (a signal that is already pending is taken at once),
/// then masks them and takes the lock again.
pub(crate) fn wait_for_interrupt() {
    let me = this_thread();
    OWNER.store(0, Ordering::Release);
    // SAFETY: zeroed, then filled by pthread_sigmask with the current mask.
    let mut during = unsafe { std::mem::zeroed::<sigset_t>() };
    // SAFETY: valid pointers; a null new set only reads the mask.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut during);
        for irq in IRQS {
            libc::sigdelset(&mut during, irq.signal());
        }
        // Returns after a handler has run, with the old mask back.
        libc::sigsuspend(&during);
    }
    lock(me);
}
// ANCHOR_END: wfi
