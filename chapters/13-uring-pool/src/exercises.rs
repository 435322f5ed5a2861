//! Solutions to the chapter's exercises.

use crate::net::{TcpListener, TcpStream};
use crate::task::{Either, race};
use crate::time::sleep;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

// ANCHOR: until-quiet
/// Exercise 1: reads until the peer has been quiet for `quiet` (or has
/// closed its side), and returns everything read. Each read races a timer;
/// the last one loses, and whatever it received in that moment is salvaged
/// for the stream's next read, not lost.
pub async fn read_until_quiet(
    stream: &TcpStream,
    quiet: Duration,
) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    loop {
        let read = stream.read(Vec::with_capacity(4096));
        match race(read, sleep(quiet)).await {
            Either::Left((n, buf)) => match n? {
                0 => return Ok(all),
                _ => all.extend_from_slice(&buf),
            },
            Either::Right(()) => return Ok(all),
        }
    }
}
// ANCHOR_END: until-quiet

// ANCHOR: accept-either
/// Exercise 2: accepts from whichever of two listeners has a connection
/// first. The other accept is dropped; if it had taken a connection too, its
/// listener keeps it for its next accept.
pub async fn accept_either(
    first: &TcpListener,
    second: &TcpListener,
) -> io::Result<(TcpStream, SocketAddr)> {
    match race(first.accept(), second.accept()).await {
        Either::Left(accepted) | Either::Right(accepted) => accepted,
    }
}
// ANCHOR_END: accept-either
