//! Graceful shutdown on SIGINT and SIGTERM, without a signal handler: the
//! two signals are blocked in every thread of the process before the pool
//! starts any, so the kernel keeps them pending instead of delivering them,
//! and a signalfd, read on the ring like any file, hands them over as data.
//! The first one cancels the pool's shutdown token; the second ends the
//! process at once.

use crate::sys::cvt;
use crate::token::CancellationToken;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

// ANCHOR: block
/// SIGINT and SIGTERM.
fn shutdown_signals() -> libc::sigset_t {
    // SAFETY: an all-zero `sigset_t` is a valid value for sigemptyset to
    // initialise; the set lives on this stack frame during the calls.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        set
    }
}

/// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
/// it starts from now on (a new thread inherits its creator's mask), and
/// returns a signalfd that reads them. Called before the pool starts its
/// threads: a thread that did not block them would be where the kernel
/// delivers them, and their default action ends the process.
pub(crate) fn signalfd() -> io::Result<OwnedFd> {
    let set = shutdown_signals();
    // SAFETY: `set` is an initialised signal set; the old mask is not asked
    // for (null). pthread_sigmask returns the error instead of setting errno.
    let error = unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    };
    if error != 0 {
        return Err(io::Error::from_raw_os_error(error));
    }
    // SAFETY: -1 asks for a new descriptor; `set` is initialised.
    let fd = cvt(unsafe {
        libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK)
    })?;
    // SAFETY: signalfd returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
// ANCHOR_END: block

// ANCHOR: on-signal
/// What the ring thread does with each signal it reads: the first cancels
/// `token` (the program's cue to stop taking work and finish what it has);
/// the second exits at once with the status a shell gives a process killed
/// by SIGINT (130). This is ordinary code on the ring thread, not a signal
/// handler, so it may lock, allocate and log.
pub(crate) fn on_signal(token: CancellationToken) -> crate::reactor::OnSignal {
    let mut seen = 0;
    Box::new(move |signo| {
        seen += 1;
        let name = match signo as i32 {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            _ => "a signal",
        };
        if seen == 1 {
            log::info!(
                "shutdown: {name}; finishing what is in flight (again to exit now)"
            );
            token.cancel();
        } else {
            eprintln!("shutdown: {name} again; exiting now");
            std::process::exit(130);
        }
    })
}
// ANCHOR_END: on-signal

/// The token the pool this code runs on cancels on SIGINT or SIGTERM (if
/// it was built with `shutdown_on_signals`) or when told to.
///
/// # Panics
/// Outside the pool.
pub fn shutdown_token() -> CancellationToken {
    crate::executor::with_context(|pool| pool.shutdown.clone())
}
