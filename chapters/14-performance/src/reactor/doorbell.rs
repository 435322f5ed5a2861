//! The doorbell: how a waker on another thread ends the executor's sleep in
//! `io_uring_enter`. The reactor keeps a read of an eventfd in flight; a
//! write to the eventfd completes that read, and a completion ends the wait.

use crate::sys;
use io_uring::{opcode, squeue, types};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

// ANCHOR: doorbell
/// The side wakers hold (`Send` and `Sync`): the eventfd, and whether the
/// executor is asleep, so that only a waker that finds it asleep pays for a
/// system call.
#[derive(Debug)]
pub struct Doorbell {
    fd: OwnedFd,
    sleeping: AtomicBool,
}

impl Doorbell {
    pub(super) fn new() -> std::io::Result<Doorbell> {
        Ok(Doorbell {
            fd: sys::eventfd(libc::EFD_NONBLOCK)?,
            sleeping: AtomicBool::new(false),
        })
    }

    /// Called by a waker after it queued its task: wakes the executor if it
    /// is (about to be) asleep. Only the first waker to find it so writes.
    pub fn ring(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst)
            && let Err(e) = sys::eventfd_add_one(&self.fd)
        {
            // EAGAIN means the counter is full: a wake is pending anyway.
            log::debug!("doorbell: eventfd write: {e}");
        }
    }

    /// The executor is about to sleep: from now on, wakers ring. Set before
    /// the executor looks at its run queue one last time, so a waker either
    /// sees the flag or queued its task before that look.
    pub fn going_to_sleep(&self) {
        self.sleeping.store(true, Ordering::SeqCst);
    }

    /// The executor is awake: wakers need not ring.
    pub fn awake(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
    }
}

// ANCHOR_END: doorbell

/// The reactor's side: the read kept in flight, and where it puts the
/// eventfd's counter (boxed, so it never moves while the kernel may write it).
#[derive(Debug, Default)]
pub(super) struct WakeRead {
    buf: Box<u64>,
    /// Whether the read is in flight (the kernel may write `buf`).
    pub armed: bool,
}

impl WakeRead {
    /// The read's entry, to be pushed with `user_data` set; marks it armed.
    pub fn arm(&mut self, doorbell: &Doorbell) -> squeue::Entry {
        self.armed = true;
        let buf = (&mut *self.buf as *mut u64).cast::<u8>();
        opcode::Read::new(types::Fd(doorbell.fd.as_raw_fd()), buf, 8).build()
    }

    /// The reactor is going away with the read still in flight (its cancel
    /// never completed): leak the buffer rather than free it under the kernel.
    pub fn leak_if_armed(&mut self) {
        if self.armed {
            std::mem::forget(std::mem::take(&mut self.buf));
        }
    }
}
