//! TCP and UDP as io_uring operations. Everything the kernel reads or writes
//! later (buffers, socket addresses, message headers, iovecs) lives in the
//! operation, on the heap, until its completion.
//!
//! `addr` has socket addresses in the kernel's form and the plain socket
//! calls; `tcp` the listener and the stream; `udp` the datagram socket.

mod addr;
mod tcp;
mod udp;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;

use crate::op::{Op, Operation};
use std::io;

// ANCHOR: transfer
/// Runs an operation that moves bytes, and flattens its two results (the
/// reactor's and the kernel's) into one, with the buffer.
async fn transfer<T: Operation<Output = (io::Result<usize>, Vec<u8>)>>(
    op: Op<T>,
) -> (io::Result<usize>, Vec<u8>) {
    match op.await {
        Ok(done) => done,
        Err(e) => (Err(e), Vec::new()),
    }
}
// ANCHOR_END: transfer
