//! The operations of the chapter, one at a time: push an entry, submit it,
//! wait for its completion.

use io_uring::{IoUring, cqueue, opcode, squeue, types};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

// ANCHOR: submit-one
/// Pushes `entry`, submits it and waits for its completion.
///
/// # Safety
/// Everything `entry` points to (buffers, timespecs, addresses) must stay valid,
/// and must not be used by anything else, until this function returns: the
/// kernel may read or write it at any moment until the completion is reaped.
pub unsafe fn submit_and_wait_one(
    ring: &mut IoUring,
    entry: &squeue::Entry,
) -> io::Result<cqueue::Entry> {
    // SAFETY: the caller guarantees that what `entry` points to outlives its
    // completion, which this function waits for before returning.
    unsafe { ring.submission().push(entry) }
        .map_err(|_| io::Error::other("the submission queue is full"))?;
    ring.submit_and_wait(1)?;
    ring.completion().next().ok_or_else(|| {
        io::Error::other("io_uring_enter returned without a completion")
    })
}
// ANCHOR_END: submit-one

/// A pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are open descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

// ANCHOR: nop
pub fn nop(ring: &mut IoUring) -> io::Result<cqueue::Entry> {
    let entry = opcode::Nop::new().build().user_data(1);
    // SAFETY: a NOP points to nothing.
    unsafe { submit_and_wait_one(ring, &entry) }
}
// ANCHOR_END: nop

// ANCHOR: write-read
/// Writes `data` to `fd` through the ring; the result is the byte count.
pub fn write(ring: &mut IoUring, fd: &OwnedFd, data: &[u8]) -> io::Result<i32> {
    let len = u32::try_from(data.len())
        .map_err(|_| io::Error::other("write too large"))?;
    let entry = opcode::Write::new(types::Fd(fd.as_raw_fd()), data.as_ptr(), len)
        .build()
        .user_data(2);
    // SAFETY: `data` is borrowed for the whole call, which returns only after
    // the write's completion: the kernel never reads it after we give it back.
    Ok(unsafe { submit_and_wait_one(ring, &entry) }?.result())
}

/// Reads up to `buf.len()` bytes from `fd` into `buf` through the ring.
pub fn read(ring: &mut IoUring, fd: &OwnedFd, buf: &mut [u8]) -> io::Result<i32> {
    let len =
        u32::try_from(buf.len()).map_err(|_| io::Error::other("read too large"))?;
    let entry = opcode::Read::new(types::Fd(fd.as_raw_fd()), buf.as_mut_ptr(), len)
        .build()
        .user_data(3);
    // SAFETY: `buf` is mutably borrowed for the whole call, which returns only
    // after the read's completion: nothing else can see the buffer while the
    // kernel may write into it.
    Ok(unsafe { submit_and_wait_one(ring, &entry) }?.result())
}
// ANCHOR_END: write-read

// ANCHOR: timeout
/// A timeout that expires after `after`. Its result is `-ETIME` when it fires.
pub fn timeout(ring: &mut IoUring, after: Duration) -> io::Result<i32> {
    let ts = types::Timespec::from(after);
    let entry = opcode::Timeout::new(&ts).build().user_data(4);
    // SAFETY: `ts` lives on this stack frame until the function returns, which
    // is after the completion.
    Ok(unsafe { submit_and_wait_one(ring, &entry) }?.result())
}
// ANCHOR_END: timeout

// ANCHOR: read-at-submit
/// The kernel reads a write's buffer when the entry is *submitted*, not when it
/// is pushed: change the buffer in between, and the new bytes are written.
pub fn changed_before_submit(ring: &mut IoUring) -> io::Result<Vec<u8>> {
    let (reader, writer) = pipe()?;
    let mut data = *b"AAAA";
    let entry = opcode::Write::new(types::Fd(writer.as_raw_fd()), data.as_ptr(), 4)
        .build()
        .user_data(5);
    // SAFETY: `data` outlives the completion, which is reaped below before
    // `data` goes out of scope, and it is only written before the submit.
    unsafe { ring.submission().push(&entry) }
        .map_err(|_| io::Error::other("the submission queue is full"))?;
    data.copy_from_slice(b"BBBB"); // after the push, before the submit
    ring.submit_and_wait(1)?;
    let done = ring.completion().next().map(|c| c.result());
    if done != Some(4) {
        return Err(io::Error::other(format!("unexpected completion {done:?}")));
    }
    let mut got = [0u8; 4];
    read(ring, &reader, &mut got)?;
    Ok(got.to_vec())
}
// ANCHOR_END: read-at-submit

// ANCHOR: write-when-ready
/// The kernel writes a read's buffer whenever the data arrives, long after the
/// read was submitted. Here the buffer is kept alive ("parked") in a list that
/// nothing else touches, data arrives from another thread, and the parked
/// buffer receives it. Had the buffer been freed instead, those bytes would have
/// gone into whatever the allocator gave that memory to next.
pub fn written_when_data_arrives(ring: &mut IoUring) -> io::Result<Vec<u8>> {
    let (reader, writer) = pipe()?;
    let mut parked: Vec<Box<[u8; 16]>> = vec![Box::new([0u8; 16])];
    let buf = parked[0].as_mut_ptr();
    let entry = opcode::Read::new(types::Fd(reader.as_raw_fd()), buf, 16)
        .build()
        .user_data(6);
    // SAFETY: the buffer is a heap allocation owned by `parked`, which is not
    // touched until the completion is reaped below; moving the Box into the
    // Vec did not move the allocation.
    unsafe { ring.submission().push(&entry) }
        .map_err(|_| io::Error::other("the submission queue is full"))?;
    ring.submit()?; // in flight now: the pipe is empty
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let _ = write_blocking(&writer, b"late data");
    });
    ring.submit_and_wait(1)?;
    let n = ring.completion().next().map_or(-1, |c| c.result());
    late.join()
        .map_err(|_| io::Error::other("writer thread panicked"))?;
    let n = usize::try_from(n).map_err(|_| io::Error::from_raw_os_error(-n))?;
    Ok(parked[0][..n].to_vec())
}
// ANCHOR_END: write-when-ready

/// A plain blocking write(2), for the helper thread.
fn write_blocking(fd: &OwnedFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: `data` is a valid slice for `data.len()` bytes, and `fd` is open.
    let n =
        unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
