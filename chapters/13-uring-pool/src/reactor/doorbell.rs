//! The doorbell: how a worker ends the ring thread's sleep in
//! `io_uring_enter`. The ring thread keeps a read of an eventfd in flight; a
//! write to the eventfd completes that read, and a completion ends the wait.
//! Whether anyone needs to write is decided under the reactor's lock (see
//! `Core::poke`), so only a worker that finds the ring thread asleep pays for
//! the system call. Also here: the other read the ring thread keeps in
//! flight, of the signalfd.

use crate::sys;
use io_uring::{opcode, squeue, types};
use std::os::fd::{AsRawFd, OwnedFd};

// ANCHOR: doorbell
/// The eventfd that ends the ring thread's wait.
#[derive(Debug)]
pub struct Doorbell {
    fd: OwnedFd,
}

impl Doorbell {
    pub(super) fn new() -> std::io::Result<Doorbell> {
        Ok(Doorbell {
            fd: sys::eventfd(libc::EFD_NONBLOCK)?,
        })
    }

    /// Wakes the ring thread. Called only by the one that found it asleep.
    pub fn ring(&self) {
        if let Err(e) = sys::eventfd_add_one(&self.fd) {
            // EAGAIN means the counter is full: a wake is pending anyway.
            log::debug!("doorbell: eventfd write: {e}");
        }
    }
}
// ANCHOR_END: doorbell

/// A read the ring thread keeps in flight on a descriptor of its own (the
/// doorbell's eventfd, the signalfd), and where the kernel puts what it read:
/// boxed, so it never moves while the kernel may write it.
#[derive(Debug)]
pub(super) struct StandingRead {
    buf: Box<[u8]>,
    /// Whether the read is in flight (the kernel may write `buf`).
    pub armed: bool,
}

impl StandingRead {
    /// A read of `len` bytes at a time.
    pub fn new(len: usize) -> StandingRead {
        StandingRead {
            buf: vec![0; len].into_boxed_slice(),
            armed: false,
        }
    }

    /// The read's entry, to be pushed with `user_data` set; marks it armed.
    pub fn arm(&mut self, fd: &impl AsRawFd) -> squeue::Entry {
        self.armed = true;
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        opcode::Read::new(types::Fd(fd.as_raw_fd()), self.buf.as_mut_ptr(), len)
            .build()
    }

    /// What the last read put in the buffer, once it completed with `n`.
    pub fn bytes(&self, n: usize) -> &[u8] {
        &self.buf[..n.min(self.buf.len())]
    }

    /// The ring is going away with the read still in flight (its cancel
    /// never completed): leak the buffer rather than free it under the kernel.
    pub fn leak_if_armed(&mut self) {
        if self.armed {
            std::mem::forget(std::mem::take(&mut self.buf));
        }
    }
}

impl AsRawFd for Doorbell {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}
