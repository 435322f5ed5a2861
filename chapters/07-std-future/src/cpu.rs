//! How much the calling thread really ran: CPU time and voluntary context
//! switches (each one is a time the thread went to sleep).

use std::time::Duration;

// ANCHOR: usage
/// The calling thread's resource usage so far.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// User plus system CPU time.
    pub cpu: Duration,
    /// How many times the thread gave up the CPU to wait for something.
    pub sleeps: u64,
}

pub fn thread_usage() -> Usage {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of a `rusage`, which is
    // all getrusage needs; RUSAGE_THREAD is a valid `who` on Linux.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    if rc != 0 {
        return Usage {
            cpu: Duration::ZERO,
            sleeps: 0,
        }; // cannot happen with valid arguments
    }
    // SAFETY: getrusage returned 0, so it filled in the whole struct (and a
    // zeroed `rusage` is a valid value anyway).
    let usage = unsafe { usage.assume_init() };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Usage {
        cpu: Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime)),
        sleeps: usage.ru_nvcsw as u64,
    }
}
// ANCHOR_END: usage
