//! Solutions to the chapter's exercises.

use crate::net::{TcpStream, UdpSocket};
use std::io;

// ANCHOR: udp-echo
/// Exercise 1: sends each of `count` datagrams back to whoever sent it.
pub async fn udp_echo(socket: &UdpSocket, count: usize) -> io::Result<()> {
    let mut buf = Vec::with_capacity(2048);
    for _ in 0..count {
        let (received, mut back) = socket.recv_from(buf).await;
        let (n, from) = received?;
        let (sent, _) = socket.send_to(back[..n].to_vec(), from).await;
        sent?;
        back.clear(); // the receive buffer keeps its capacity for the next one
        buf = back;
    }
    Ok(())
}
// ANCHOR_END: udp-echo

// ANCHOR: read-line
/// Exercise 2: reads up to and including the next `\n` (or to the end of the
/// stream); what came after the newline is returned too, for the next line.
pub async fn read_line(
    stream: &TcpStream,
    mut pending: Vec<u8>,
) -> io::Result<(String, Vec<u8>)> {
    loop {
        if let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let rest = pending.split_off(end + 1);
            let line = String::from_utf8(pending)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            return Ok((line, rest));
        }
        let (read, chunk) = stream.read(Vec::with_capacity(1024)).await;
        if read? == 0 {
            let line = String::from_utf8(std::mem::take(&mut pending))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            return Ok((line, Vec::new()));
        }
        pending.extend_from_slice(&chunk);
    }
}
// ANCHOR_END: read-line
