//! Solutions to the chapter's exercises.

use crate::tour;
use io_uring::{IoUring, opcode, squeue, types};
use std::io;
use std::os::fd::AsRawFd;

// ANCHOR: batch
/// Exercise 1: `n` NOPs pushed, then submitted with one `io_uring_enter`;
/// returns their `user_data`s in the order their completions came.
pub fn batch_of_nops(ring: &mut IoUring, n: u64) -> io::Result<Vec<u64>> {
    for id in 0..n {
        let entry = opcode::Nop::new().build().user_data(100 + id);
        // SAFETY: a NOP points to nothing.
        unsafe { ring.submission().push(&entry) }
            .map_err(|_| io::Error::other("the submission queue is full"))?;
    }
    ring.submit_and_wait(n as usize)?; // one system call for all of them
    Ok(ring.completion().map(|c| c.user_data()).collect())
}
// ANCHOR_END: batch

// ANCHOR: linked
/// Exercise 2: a write and a read of the same pipe, submitted together, with
/// `IO_LINK` on the write so that the read starts only once the write is done.
pub fn linked_write_then_read(ring: &mut IoUring) -> io::Result<Vec<u8>> {
    let (reader, writer) = tour::pipe()?;
    let data = b"linked".to_vec();
    let mut buf = vec![0u8; 16];
    let write = opcode::Write::new(types::Fd(writer.as_raw_fd()), data.as_ptr(), 6)
        .build()
        .flags(squeue::Flags::IO_LINK)
        .user_data(1);
    let read =
        opcode::Read::new(types::Fd(reader.as_raw_fd()), buf.as_mut_ptr(), 16)
            .build()
            .user_data(2);
    // SAFETY: `data` and `buf` live until both completions are reaped below,
    // and nothing else touches them meanwhile.
    unsafe {
        let mut sq = ring.submission();
        sq.push(&write)
            .map_err(|_| io::Error::other("queue full"))?;
        sq.push(&read).map_err(|_| io::Error::other("queue full"))?;
    }
    ring.submit_and_wait(2)?;
    let mut read_result = None;
    for done in ring.completion() {
        if done.user_data() == 2 {
            read_result = Some(done.result());
        }
    }
    let n = read_result
        .ok_or_else(|| io::Error::other("no completion for the read"))?;
    let n = usize::try_from(n).map_err(|_| io::Error::from_raw_os_error(-n))?;
    buf.truncate(n);
    Ok(buf)
}
// ANCHOR_END: linked
