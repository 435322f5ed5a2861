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

// ANCHOR: raw-enter
/// `io_uring_enter` flags (from `<linux/io_uring.h>`).
pub(crate) const ENTER_GETEVENTS: u32 = 1 << 0;
pub(crate) const ENTER_SQ_WAKEUP: u32 = 1 << 1;
pub(crate) const ENTER_EXT_ARG: u32 = 1 << 3;
pub(crate) const ENTER_REGISTERED_RING: u32 = 1 << 4;
/// `io_uring_register` opcode that registers ring descriptors.
const REGISTER_RING_FDS: libc::c_uint = 20;

/// The descriptor argument of `io_uring_enter`: the ring's file descriptor,
/// or the index it was registered under (then `ENTER_REGISTERED_RING` is set).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RingFd {
    Plain(libc::c_int),
    Registered(u32),
}

/// `struct io_uring_rsrc_update`.
#[repr(C)]
struct RsrcUpdate {
    offset: u32,
    resv: u32,
    data: u64,
}

/// Registers the ring descriptor `fd` for the calling thread (registrations
/// are per thread) and returns the index to enter it by.
pub(crate) fn register_ring_fd(fd: libc::c_int) -> io::Result<RingFd> {
    let mut update = RsrcUpdate {
        offset: u32::MAX, // "any free index"; the kernel writes the one it took
        resv: 0,
        data: fd as u64,
    };
    // SAFETY: `update` is a live io_uring_rsrc_update and the count is 1; the
    // kernel reads it and writes its `offset` during the call only.
    let n = unsafe {
        libc::syscall(
            libc::SYS_io_uring_register,
            fd,
            REGISTER_RING_FDS,
            &mut update as *mut RsrcUpdate,
            1,
        )
    };
    if n == 1 {
        Ok(RingFd::Registered(update.offset))
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One `io_uring_enter`; `arg` is the `EXT_ARG` argument (with a timeout),
/// if any. Returns how many entries the kernel consumed.
pub(crate) fn io_uring_enter(
    ring: RingFd,
    to_submit: u32,
    min_complete: u32,
    mut flags: u32,
    arg: Option<&io_uring::types::SubmitArgs<'_, '_>>,
) -> io::Result<usize> {
    let fd = match ring {
        RingFd::Plain(fd) => fd,
        RingFd::Registered(index) => {
            flags |= ENTER_REGISTERED_RING;
            index as libc::c_int
        }
    };
    let (arg, size) = match arg {
        Some(arg) => {
            flags |= ENTER_EXT_ARG;
            let size = size_of::<io_uring::types::SubmitArgs<'_, '_>>();
            (
                (arg as *const io_uring::types::SubmitArgs<'_, '_>).cast(),
                size,
            )
        }
        None => (std::ptr::null::<libc::c_void>(), 0),
    };
    // SAFETY: `arg` is null or points to a live io_uring_getevents_arg
    // (`SubmitArgs` is a transparent wrapper of it) of `size` bytes, whose
    // timespec, if set, is borrowed for the call; no other pointer is passed.
    let n = unsafe {
        libc::syscall(
            libc::SYS_io_uring_enter,
            fd,
            to_submit,
            min_complete,
            flags,
            arg,
            size,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}
// ANCHOR_END: raw-enter
