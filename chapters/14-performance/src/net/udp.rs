//! UDP: a socket whose sends and receives are operations; `send_to` and
//! `recv_from` carry the peer's address in a message header.

use super::addr::{RawAddr, context, local_addr, socket};
use super::transfer;
use crate::op::{Op, Operation, SharedFd, check, filled};
use crate::salvage::{Salvage, Ticket, copy_into};
use crate::sys::cvt;
use io_uring::{opcode, squeue, types};
use std::cell::Cell;
use std::io;
use std::mem::zeroed;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::Waker;

// ANCHOR: udp
/// A UDP socket.
#[derive(Debug)]
pub struct UdpSocket {
    fd: SharedFd,
    local: SocketAddr,
    /// The peer `connect` set, for `send` and `recv`.
    peer: Cell<Option<SocketAddr>>,
    /// Datagrams that dropped receives took: the next receives get them.
    received: Rc<Salvage<Datagram>>,
}

/// A datagram a dropped receive took, and who sent it.
#[derive(Debug)]
struct Datagram {
    data: Vec<u8>,
    from: SocketAddr,
}

impl UdpSocket {
    /// A socket bound to `addr` (port 0: the system picks one).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let fail = |e| context(e, format!("cannot bind a UDP socket to {addr}"));
        let fd = socket(&addr, libc::SOCK_DGRAM).map_err(fail)?;
        let raw = RawAddr::from(addr);
        // SAFETY: bind reads `raw.len` bytes of `raw`.
        cvt(unsafe { libc::bind(fd.as_raw_fd(), raw.as_ptr(), raw.len) })
            .map_err(fail)?;
        let local = local_addr(&fd)?;
        Ok(UdpSocket {
            fd: Rc::new(fd),
            local,
            peer: Cell::new(None),
            received: Rc::default(),
        })
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends `buf` as one datagram to `addr`.
    pub async fn send_to(
        &self,
        buf: Vec<u8>,
        addr: SocketAddr,
    ) -> (io::Result<usize>, Vec<u8>) {
        let msg = Message::new(buf, RawAddr::from(addr));
        let (result, buf) =
            transfer(Op::new(SendMsg(msg, Rc::clone(&self.fd)))).await;
        (
            result.map_err(|e| context(e, format!("send to {addr}"))),
            buf,
        )
    }

    /// Receives one datagram into `buf` (up to its capacity; the rest of a
    /// longer one is lost, as with any receive), and who sent it. A datagram
    /// that a dropped receive took comes first.
    pub async fn recv_from(
        &self,
        buf: Vec<u8>,
    ) -> (io::Result<(usize, SocketAddr)>, Vec<u8>) {
        if let Some(datagram) = self.received.settled().await {
            let (n, buf) = copy_into(&datagram.data, buf); // the rest is dropped, as by recv
            return (Ok((n, datagram.from)), buf);
        }
        let op = Op::new(RecvMsg {
            message: Message::new(buf, RawAddr::empty()),
            fd: Rc::clone(&self.fd),
            ticket: Ticket::new(&self.received),
        });
        match op.await {
            Ok((result, buf)) => (result, buf),
            Err(e) => (Err(e), Vec::new()),
        }
    }

    /// Sets the default peer of `send` and `recv` (and filters what arrives).
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        let raw = RawAddr::from(addr);
        // SAFETY: connect reads `raw.len` bytes of `raw`; for UDP it only
        // records the peer, so it does not block.
        cvt(unsafe { libc::connect(self.fd.as_raw_fd(), raw.as_ptr(), raw.len) })
            .map_err(|e| context(e, format!("connect a UDP socket to {addr}")))?;
        self.peer.set(Some(addr));
        Ok(())
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        transfer(Op::new(Send {
            fd: Rc::clone(&self.fd),
            buf,
        }))
        .await
    }

    /// Receives from the connected peer; a datagram that a dropped receive
    /// took comes first.
    pub async fn recv(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        if let Some(datagram) = self.received.settled().await {
            let (n, buf) = copy_into(&datagram.data, buf); // the rest is dropped, as by recv
            return (Ok(n), buf);
        }
        let Some(from) = self.peer.get() else {
            let err =
                io::Error::new(io::ErrorKind::NotConnected, "recv before connect");
            return (Err(err), buf);
        };
        transfer(Op::new(Recv {
            fd: Rc::clone(&self.fd),
            buf,
            from,
            ticket: Ticket::new(&self.received),
        }))
        .await
    }
}

/// Keeps the datagram a dropped receive into `buf` took (`result` bytes).
fn salvage_datagram(
    ticket: Ticket<Datagram>,
    buf: Vec<u8>,
    result: i32,
    from: io::Result<SocketAddr>,
    woken: &mut Vec<Waker>,
) {
    // SAFETY: both callers pass the completion of a receive into `buf`'s
    // capacity, from its start.
    match (unsafe { filled(buf, result) }, from) {
        ((Ok(_), data), Ok(from)) => ticket.salvage(Datagram { data, from }, woken),
        _ => ticket.end(woken),
    }
}

/// A `msghdr`, its one `iovec`, the address and the buffer, together on the
/// heap: the header points at the other three, so they must not move.
struct Message {
    hdr: libc::msghdr,
    iov: libc::iovec,
    addr: Box<RawAddr>,
    buf: Vec<u8>,
}

impl Message {
    fn new(buf: Vec<u8>, addr: Box<RawAddr>) -> Box<Message> {
        Box::new(Message {
            // SAFETY: msghdr and iovec are plain data; null pointers and zero
            // lengths are valid until `point` fills them in.
            hdr: unsafe { zeroed() },
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            addr,
            buf,
        })
    }

    /// The buffer and the sender's address, once the kernel is done.
    fn take(&mut self) -> (Vec<u8>, io::Result<SocketAddr>) {
        self.addr.len = self.hdr.msg_namelen;
        (std::mem::take(&mut self.buf), self.addr.to_socket_addr())
    }

    /// Points the header at the iovec and the address, the iovec at `len`
    /// bytes of the buffer. Called when the entry is built, on the boxed
    /// message, which stays where it is until the completion.
    fn point(&mut self, len: usize) -> *mut libc::msghdr {
        self.iov = libc::iovec {
            iov_base: self.buf.as_mut_ptr().cast(),
            iov_len: len,
        };
        self.hdr.msg_name = self.addr.as_mut_ptr().cast();
        self.hdr.msg_namelen = self.addr.len;
        self.hdr.msg_iov = &mut self.iov;
        self.hdr.msg_iovlen = 1;
        &mut self.hdr
    }
}

struct SendMsg(Box<Message>, SharedFd);

impl Operation for SendMsg {
    type Output = (io::Result<usize>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        let len = self.0.buf.len();
        let hdr = self.0.point(len);
        opcode::SendMsg::new(types::Fd(self.1.as_raw_fd()), hdr).build()
    }
    fn complete(self, result: i32) -> Self::Output {
        (check(result), self.0.buf)
    }
}

struct RecvMsg {
    message: Box<Message>,
    fd: SharedFd,
    ticket: Ticket<Datagram>,
}

impl Operation for RecvMsg {
    type Output = (io::Result<(usize, SocketAddr)>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        let capacity = self.message.buf.capacity();
        self.message.addr.len =
            size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let hdr = self.message.point(capacity);
        opcode::RecvMsg::new(types::Fd(self.fd.as_raw_fd()), hdr).build()
    }
    fn complete(mut self, result: i32) -> Self::Output {
        let (buf, from) = self.message.take();
        // SAFETY: `result` completes the recvmsg whose one iovec `entry`
        // pointed at this buffer's capacity, from its start.
        let (read, buf) = unsafe { filled(buf, result) };
        let received = read.and_then(|n| Ok((n, from?)));
        (received, buf)
    }
    fn abandoned(mut self, result: i32, woken: &mut Vec<Waker>) {
        let (buf, from) = self.message.take();
        salvage_datagram(self.ticket, buf, result, from, woken);
    }
}

struct Send {
    fd: SharedFd,
    buf: Vec<u8>,
}

impl Operation for Send {
    type Output = (io::Result<usize>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        opcode::Send::new(types::Fd(self.fd.as_raw_fd()), self.buf.as_ptr(), len)
            .build()
    }
    fn complete(self, result: i32) -> Self::Output {
        (check(result), self.buf)
    }
}

struct Recv {
    fd: SharedFd,
    buf: Vec<u8>,
    /// The connected peer, which sent whatever arrives.
    from: SocketAddr,
    ticket: Ticket<Datagram>,
}

impl Operation for Recv {
    type Output = (io::Result<usize>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        let capacity = u32::try_from(self.buf.capacity()).unwrap_or(u32::MAX);
        opcode::Recv::new(
            types::Fd(self.fd.as_raw_fd()),
            self.buf.as_mut_ptr(),
            capacity,
        )
        .build()
    }
    fn complete(self, result: i32) -> Self::Output {
        // SAFETY: `result` completes the recv `entry` made into the buffer's
        // capacity, from its start.
        unsafe { filled(self.buf, result) }
    }
    fn abandoned(self, result: i32, woken: &mut Vec<Waker>) {
        salvage_datagram(self.ticket, self.buf, result, Ok(self.from), woken);
    }
}
// ANCHOR_END: udp
