//! The few raw system calls the runtime makes outside the ring, each wrapped
//! once, with its error turned into an `io::Error`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A non-negative result, or the error `errno` holds.
pub(crate) fn cvt(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// A new eventfd with its counter at zero, closed on exec; `flags` may add
/// `EFD_NONBLOCK`.
pub(crate) fn eventfd(flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: eventfd has no pointer arguments; a negative result is an error.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | flags) })?;
    // SAFETY: eventfd returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds one to an eventfd's counter, which wakes whoever reads it. An error
/// is returned as is: `EAGAIN` means the counter is full, so a wake is
/// pending anyway.
pub(crate) fn eventfd_add_one(fd: &OwnedFd) -> io::Result<()> {
    eventfd_add(fd, 1)
}

/// Adds `count` to an eventfd's counter (errors as for `eventfd_add_one`).
pub(crate) fn eventfd_add(fd: &OwnedFd, count: u64) -> io::Result<()> {
    // SAFETY: writes the 8 bytes of `count`, which lives across the call, to
    // an open descriptor.
    let n =
        unsafe { libc::write(fd.as_raw_fd(), (&count as *const u64).cast(), 8) };
    if n == 8 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets an integer socket option.
pub(crate) fn setsockopt_int(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a live `c_int` and its size is given; the
    // descriptor is open.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}
