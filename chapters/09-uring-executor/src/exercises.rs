//! Solutions to the chapter's exercises.

use crate::executor::spawn;
use crate::op::{Pipe, nop};
use std::io;

// ANCHOR: read-exact
/// Exercise 1: reads exactly `n` bytes, however the pipe splits them.
pub async fn read_exact(pipe: &Pipe, n: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    let mut buf = Vec::with_capacity(n);
    while out.len() < n {
        buf.clear();
        buf.reserve(n - out.len());
        let (read, back) = pipe.read(buf).await?;
        buf = back;
        match read? {
            0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            got => out.extend_from_slice(&buf[..got.min(n - out.len())]),
        }
    }
    Ok(out)
}
// ANCHOR_END: read-exact

// ANCHOR: nops
/// Exercise 2: `n` NOPs awaited one after the other in one task...
pub async fn nops_in_a_row(n: usize) -> io::Result<()> {
    for _ in 0..n {
        nop().await??;
    }
    Ok(())
}

/// ...and `n` NOPs in `n` tasks, all started in the same turn.
pub fn nops_in_tasks(n: usize) {
    for _ in 0..n {
        spawn(async {
            if let Err(e) = nop().await.and_then(|r| r) {
                log::error!("nop failed: {e}");
            }
        });
    }
}
// ANCHOR_END: nops
