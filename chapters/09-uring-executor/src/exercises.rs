//! Solutions to the chapter's exercises.

use crate::executor::spawn;
use crate::op::{Pipe, nop};
use std::io;

// ANCHOR: read-exact
/// Exercise 1: reads exactly `n` bytes, however the pipe splits them, and
/// not one more: each read asks for what is still missing, so the bytes
/// after the `n`th stay in the pipe for the next reader.
pub async fn read_exact(pipe: &Pipe, n: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // `Vec::with_capacity` gives exactly the capacity asked for, and a
        // read asks the kernel for the buffer's whole capacity.
        let missing = Vec::with_capacity(n - out.len());
        let (read, got) = pipe.read(missing).await?;
        match read? {
            0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            _ => out.extend_from_slice(&got),
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
