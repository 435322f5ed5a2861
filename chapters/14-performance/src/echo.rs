//! An echo server on the io_uring runtime.

use crate::executor::spawn;
use crate::net::{TcpListener, TcpStream};
use std::io;

// ANCHOR: echo
/// Accepts `connections` connections (or forever, with `None`) and echoes
/// each on a task of its own.
pub async fn serve(
    listener: TcpListener,
    connections: Option<usize>,
) -> io::Result<()> {
    let mut accepted = 0;
    while connections.is_none_or(|n| accepted < n) {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        log::debug!("echo: connection from {peer}");
        accepted += 1;
        spawn(async move {
            if let Err(e) = echo(stream).await {
                log::debug!("echo: connection from {peer} ended: {e}");
            }
        });
    }
    Ok(())
}

/// Sends back everything it receives until the peer closes. After the first
/// read, each reply and the next read go to the kernel together, linked, in
/// one submission; two buffers take turns.
pub async fn echo(stream: TcpStream) -> io::Result<()> {
    let (read, mut received) = stream.read(Vec::with_capacity(4096)).await;
    if read? == 0 {
        return Ok(()); // the peer closed
    }
    let mut spare = Vec::with_capacity(4096);
    loop {
        let (read, sent, next) = stream.write_then_read(received, spare).await;
        if read? == 0 {
            return Ok(());
        }
        spare = sent;
        spare.clear();
        received = next;
    }
}
// ANCHOR_END: echo

// ANCHOR: echo-fast
/// How the echo server takes connections and reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// One multishot accept for all connections (`TcpListener::incoming`),
    /// instead of an accept submitted per connection.
    pub multishot_accept: bool,
    /// How each connection receives.
    pub recv: Recv,
}

/// How the echo receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recv {
    /// Into its own buffers, each read linked after the last reply (`echo`,
    /// chapter 10's).
    Linked,
    /// The same links, the reads taking buffers from the provided buffer
    /// ring when bytes arrive (`echo_ring_buffers`).
    LinkedRingBuffers,
    /// One multishot receive into the ring (`echo_multishot`).
    Multishot,
}

/// The echo server, as `mode` says. `serve` is chapter 12's, with both off.
pub async fn serve_with(
    listener: TcpListener,
    connections: Option<usize>,
    mode: Mode,
) -> io::Result<()> {
    let mut incoming = mode.multishot_accept.then(|| listener.incoming());
    let mut accepted = 0;
    while connections.is_none_or(|n| accepted < n) {
        let (stream, peer) = match incoming.as_mut() {
            Some(incoming) => incoming.next().await?,
            None => listener.accept().await?,
        };
        stream.set_nodelay(true)?;
        accepted += 1;
        spawn(async move {
            let echoed = match mode.recv {
                Recv::Linked => echo(stream).await,
                Recv::LinkedRingBuffers => echo_ring_buffers(stream).await,
                Recv::Multishot => echo_multishot(stream).await,
            };
            if let Err(e) = echoed {
                log::debug!("echo: connection from {peer} ended: {e}");
            }
        });
    }
    Ok(())
}

/// Sends back everything it receives until the peer closes: each reply and
/// the next receive go to the kernel linked, as in `echo`, and the receive
/// takes a ring buffer only when bytes arrive, so a waiting connection holds
/// none.
pub async fn echo_ring_buffers(stream: TcpStream) -> io::Result<()> {
    let mut received = stream.recv_buf().await?;
    while let Some(chunk) = received {
        received = stream.send_then_recv(chunk).await?;
    }
    Ok(())
}

/// Sends back everything it receives until the peer closes, with one
/// multishot receive: each chunk arrives in a ring buffer, is sent back from
/// it, and the buffer returns to the ring when the send is done.
pub async fn echo_multishot(stream: TcpStream) -> io::Result<()> {
    let mut received = stream.recv_many()?;
    while let Some(chunk) = received.next().await? {
        stream.send_all(chunk).await?;
    }
    Ok(())
}
// ANCHOR_END: echo-fast

/// Sends `message` and reads until the same number of bytes came back.
pub async fn round_trip(
    stream: &TcpStream,
    message: Vec<u8>,
) -> io::Result<Vec<u8>> {
    let len = message.len();
    let (written, _) = stream.write_all(message).await;
    written?;
    let mut reply = Vec::with_capacity(len);
    while reply.len() < len {
        let (read, chunk) =
            stream.read(Vec::with_capacity(len - reply.len())).await;
        match read? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            _ => reply.extend_from_slice(&chunk),
        }
    }
    Ok(reply)
}
