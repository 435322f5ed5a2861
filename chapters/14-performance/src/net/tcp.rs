//! TCP: a listener whose accepts are operations, and a stream whose reads,
//! writes, connect and shutdown are.

use super::addr::{RawAddr, context, local_addr, peer_addr, socket};
use super::transfer;
use crate::bufring::{self, BufRing, Chunk, StableBytes};
use crate::op::{Multishot, Op, Operation, Read, SharedFd, Write, check, filled};
use crate::salvage::{Salvage, Ticket, copy_into};
use crate::sys::{self, cvt};
use io_uring::{opcode, squeue, types};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;
use std::task::Waker;

// ANCHOR: listener
/// A TCP socket listening for connections.
#[derive(Debug)]
pub struct TcpListener {
    fd: SharedFd,
    local: SocketAddr,
    /// Connections that dropped accepts took: the next accepts get them.
    accepted: Rc<Salvage<Accepted>>,
}

/// A connection an accept took: its socket and the peer's address.
type Accepted = (OwnedFd, SocketAddr);

impl TcpListener {
    /// Listens on `addr` (port 0: the system picks one), with room for 1,024
    /// connections waiting to be accepted.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let fail = |e| context(e, format!("cannot listen on {addr}"));
        let fd = socket(&addr, libc::SOCK_STREAM).map_err(fail)?;
        sys::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
            .map_err(fail)?;
        let raw = RawAddr::from(addr);
        // SAFETY: bind reads `raw.len` bytes of `raw`; listen has no pointers.
        unsafe {
            cvt(libc::bind(fd.as_raw_fd(), raw.as_ptr(), raw.len)).map_err(fail)?;
            cvt(libc::listen(fd.as_raw_fd(), 1024)).map_err(fail)?;
        }
        let local = local_addr(&fd)?;
        Ok(TcpListener {
            fd: Rc::new(fd),
            local,
            accepted: Rc::default(),
        })
    }

    /// The address it listens on (with the port the system chose).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Waits for a connection. A connection that an earlier, dropped accept
    /// took comes first; it was not lost.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = match self.accepted.settled().await {
            Some(taken) => taken,
            None => {
                let op = Op::new(Accept {
                    fd: Rc::clone(&self.fd),
                    addr: RawAddr::empty(),
                    ticket: Ticket::new(&self.accepted),
                });
                op.await?
                    .map_err(|e| context(e, format!("accept on {}", self.local)))?
            }
        };
        Ok((TcpStream::new(fd, peer), peer))
    }

    /// Connections taken by dropped accepts, waiting for the next `accept`.
    pub fn salvaged(&self) -> usize {
        self.accepted.len()
    }
}

struct Accept {
    fd: SharedFd,
    /// Where the kernel writes the peer's address, after the submission.
    addr: Box<RawAddr>,
    ticket: Ticket<Accepted>,
}

impl Operation for Accept {
    type Output = io::Result<(OwnedFd, SocketAddr)>;

    fn entry(&mut self) -> squeue::Entry {
        let (ptr, len) = (
            self.addr.as_mut_ptr(),
            &mut self.addr.len as *mut libc::socklen_t,
        );
        opcode::Accept::new(types::Fd(self.fd.as_raw_fd()), ptr, len)
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }

    fn complete(self, result: i32) -> Self::Output {
        let fd = check(result)? as libc::c_int;
        // SAFETY: the kernel returned a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok((fd, self.addr.to_socket_addr()?))
    }

    /// An accept whose future was dropped may still have accepted a
    /// connection: the listener keeps it for its next accept (and closes it
    /// with the listener, if no accept comes).
    fn abandoned(self, result: i32, woken: &mut Vec<Waker>) {
        if result < 0 {
            return self.ticket.end(woken);
        }
        // SAFETY: the kernel created this descriptor for us; nobody else
        // has seen it.
        let fd = unsafe { OwnedFd::from_raw_fd(result) };
        match self.addr.to_socket_addr() {
            Ok(peer) => self.ticket.salvage((fd, peer), woken),
            Err(_) => self.ticket.end(woken), // not a TCP peer: closed
        }
    }
}
// ANCHOR_END: listener

// ANCHOR: incoming
/// Connections from one multishot accept: one submission, then a completion
/// per connection. Dropping it cancels the accept; connections it had taken
/// (queued, or completed before the cancel) go to the listener, for its
/// next `accept` or `incoming`.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    accepts: Multishot<AcceptMany>,
}

impl TcpListener {
    /// Accepts connections with one multishot accept (Linux 5.19 or newer).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            accepts: Multishot::new(AcceptMany {
                fd: Rc::clone(&self.fd),
                accepted: Rc::clone(&self.accepted),
                ticket: None,
            }),
        }
    }
}

impl Incoming<'_> {
    /// The next connection: one that a dropped accept took first, if any.
    /// It does not wait for plain accepts in flight on the same listener
    /// (the multishot would take the connections they wait for).
    pub async fn next(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        if let Some((fd, peer)) = self.listener.accepted.take_now() {
            return Ok((TcpStream::new(fd, peer), peer));
        }
        let local = self.listener.local;
        let result = self.accepts.next().await?;
        let fd =
            check(result).map_err(|e| context(e, format!("accept on {local}")))?;
        // SAFETY: the kernel created this descriptor for us; nobody else has it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
        let peer = peer_addr(&fd)?;
        Ok((TcpStream::new(fd, peer), peer))
    }

    /// Connections accepted and not yet taken by `next`.
    pub fn queued(&self) -> usize {
        self.accepts.queued()
    }

    /// How many times the multishot accept was submitted: once, unless the
    /// kernel ended it (it then goes again on the next call).
    pub fn submissions(&self) -> u64 {
        self.accepts.arms()
    }
}

/// The multishot accept of `Incoming`. The kernel writes no peer address
/// (one address could not serve many connections); `getpeername` finds it.
/// While it is armed it holds no ticket (an `accept` beside a live `Incoming`
/// need not wait for it); once dropped, it takes one, so that the listener's
/// next accept waits for the connections it may still take.
#[derive(Debug)]
struct AcceptMany {
    fd: SharedFd,
    accepted: Rc<Salvage<Accepted>>,
    ticket: Option<Ticket<Accepted>>,
}

impl AcceptMany {
    /// Keeps a connection nobody took for the listener's next accept.
    fn keep(&self, result: i32) {
        if result < 0 {
            return;
        }
        // SAFETY: the kernel created this descriptor for us; nobody else has it.
        let fd = unsafe { OwnedFd::from_raw_fd(result) };
        if let Ok(peer) = peer_addr(&fd) {
            self.accepted.keep((fd, peer));
        }
    }
}

impl Operation for AcceptMany {
    type Output = ();
    fn entry(&mut self) -> squeue::Entry {
        opcode::AcceptMulti::new(types::Fd(self.fd.as_raw_fd()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }
    fn complete(self, _: i32) {}
    fn on_park(&mut self) {
        self.ticket = Some(Ticket::new(&self.accepted));
    }
    fn abandoned_more(&mut self, result: i32, _: u32, _: &mut Vec<Waker>) {
        self.keep(result);
    }
    fn abandoned(mut self, result: i32, woken: &mut Vec<Waker>) {
        self.keep(result);
        if let Some(ticket) = self.ticket.take() {
            ticket.end(woken);
        }
    }
}
// ANCHOR_END: incoming

// ANCHOR: stream
/// A TCP connection.
#[derive(Debug)]
pub struct TcpStream {
    fd: SharedFd,
    peer: SocketAddr,
    /// Bytes that dropped reads received: the next reads get them.
    received: Rc<Salvage<Vec<u8>>>,
}

impl TcpStream {
    fn new(fd: OwnedFd, peer: SocketAddr) -> TcpStream {
        TcpStream::with_shared_fd(Rc::new(fd), peer)
    }

    fn with_shared_fd(fd: SharedFd, peer: SocketAddr) -> TcpStream {
        TcpStream {
            fd,
            peer,
            received: Rc::default(),
        }
    }

    /// Connects to `addr`. The address is copied into the operation, on the
    /// heap, because the kernel reads it when the entry is submitted, after
    /// this future's `poll` has returned.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let fd = Rc::new(socket(&addr, libc::SOCK_STREAM)?);
        let op = Op::new(Connect {
            fd: Rc::clone(&fd),
            addr: RawAddr::from(addr),
        });
        op.await?
            .map_err(|e| context(e, format!("connect to {addr}")))?;
        Ok(TcpStream::with_shared_fd(fd, addr))
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Sends small writes at once instead of waiting to merge them (Nagle).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        sys::setsockopt_int(
            &self.fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            on.into(),
        )
    }

    // ANCHOR: salvaged-read
    /// Reads up to `buf.capacity()` bytes; 0 means the peer closed its side.
    /// Bytes that a dropped read received come first: they were not lost.
    pub async fn read(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        if let Some(data) = self.received.settled().await {
            return self.hand_over(data, buf);
        }
        let read = Op::new(StreamRead {
            read: Read {
                fd: Rc::clone(&self.fd),
                buf,
            },
            ticket: Ticket::new(&self.received),
        });
        transfer(read).await
    }

    /// Bytes salvaged from dropped reads, waiting for the next read.
    pub fn salvaged(&self) -> usize {
        self.received.len()
    }

    /// Fills `buf` (up to its capacity) from salvaged `data`; what does not
    /// fit is put back for the read after.
    fn hand_over(
        &self,
        data: Vec<u8>,
        buf: Vec<u8>,
    ) -> (io::Result<usize>, Vec<u8>) {
        let (n, buf) = copy_into(&data, buf);
        if n < data.len() {
            self.received.put_back(data[n..].to_vec());
        }
        (Ok(n), buf)
    }
    // ANCHOR_END: salvaged-read

    /// Writes some of `buf`; the count says how much.
    pub async fn write(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        transfer(Op::new(Write {
            fd: Rc::clone(&self.fd),
            buf,
        }))
        .await
    }

    // ANCHOR: stream-bufs
    /// One multishot receive for this stream, armed on the first `next` and
    /// kept armed: each arrival of bytes is a completion naming a buffer the
    /// kernel took from the runtime's provided buffer ring. An error if the
    /// runtime has no buffer ring (`Tuning::buffers`).
    pub fn recv_many(&self) -> io::Result<Received<'_>> {
        let bufs = current_bufs()?;
        Ok(Received {
            stream: self,
            recv: Multishot::new(RecvMany {
                fd: Rc::clone(&self.fd),
                bufs: Rc::clone(&bufs),
                received: Rc::clone(&self.received),
                ticket: None,
            }),
            bufs,
        })
    }

    /// One receive into a buffer the kernel takes from the runtime's ring
    /// when the bytes arrive (`BUFFER_SELECT`): no buffer is tied up while
    /// it waits. `None` once the peer has closed its side.
    pub async fn recv_buf(&self) -> io::Result<Option<Chunk>> {
        self.send_then_recv_buf(None).await
    }

    /// Sends all of `out`, then receives into a ring buffer, as one linked
    /// submission (as `write_then_read` does with owned buffers); `out`'s
    /// buffer goes back to the ring once the receive completes, which the
    /// link orders after the send.
    pub async fn send_then_recv(&self, out: Chunk) -> io::Result<Option<Chunk>> {
        self.send_then_recv_buf(Some(out)).await
    }

    async fn send_then_recv_buf(
        &self,
        mut out: Option<Chunk>,
    ) -> io::Result<Option<Chunk>> {
        let bufs = current_bufs()?;
        loop {
            if let Some(data) = self.received.settled().await {
                // A dropped read left bytes: they are the answer.
                if let Some(out) = out.take() {
                    self.send_all(out).await?;
                }
                return Ok(Some(Chunk::Salvaged(data)));
            }
            let sent_too_big = out
                .as_ref()
                .is_some_and(|o| u32::try_from(o.len()).is_err());
            if sent_too_big && let Some(out) = out.take() {
                self.send_all(out).await?;
            }
            let op = Op::new(SendThenRecv {
                fd: Rc::clone(&self.fd),
                out: out.take(),
                bufs: Rc::clone(&bufs),
                ticket: Some(Ticket::new(&self.received)),
                salvaged: None,
            });
            match op.await?? {
                Received1::Bytes(chunk) => return Ok(Some(chunk)),
                Received1::Closed => return Ok(None),
                // The send went out; every buffer is out: wait for one.
                Received1::NoBuffer => bufs.a_buffer_is_free().await,
            }
        }
    }

    /// Writes all of `buf`, whatever owns the bytes (a ring buffer, say),
    /// then drops it.
    pub async fn send_all<B: StableBytes>(&self, mut buf: B) -> io::Result<()> {
        let mut from = 0;
        while from < buf.as_bytes().len() {
            let op = Op::new(WriteRest {
                fd: Rc::clone(&self.fd),
                buf,
                from,
            });
            let (result, back) = op.await?;
            buf = back;
            match result? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => from += n,
            }
        }
        Ok(())
    }
    // ANCHOR_END: stream-bufs

    /// Writes all of `buf`, however many writes that takes. After a short
    /// write the same buffer goes back to the kernel with the offset of what
    /// is left: nothing is copied, so the cost is linear in the length. An
    /// empty buffer is written at once, as with std's `write_all`.
    pub async fn write_all(&self, mut buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let mut from = 0;
        while from < buf.len() {
            let op = Op::new(WriteRest {
                fd: Rc::clone(&self.fd),
                buf,
                from,
            });
            let (result, back) = transfer(op).await;
            buf = back;
            match result {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                Ok(n) => from += n,
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }

    /// Writes all of `out`, then reads into `into`, as one submission: the
    /// write is linked to the read (`IO_LINK`), sends everything or fails
    /// (`MSG_WAITALL`), and posts no completion when it succeeds
    /// (`CQE_SKIP_SUCCESS`). So one `io_uring_enter` submits both and waits
    /// for the read, where a write and then a read would take two. Needs Linux
    /// 5.19 or newer.
    pub async fn write_then_read(
        &self,
        out: Vec<u8>,
        into: Vec<u8>,
    ) -> (io::Result<usize>, Vec<u8>, Vec<u8>) {
        if u32::try_from(out.len()).is_err() {
            // One send entry cannot say so many bytes (its length is 32
            // bits), and a linked read must not start after a part of them.
            let (written, out) = self.write_all(out).await;
            if let Err(e) = written {
                return (Err(e), out, into);
            }
            let (read, into) = self.read(into).await;
            return (read, out, into);
        }
        if let Some(data) = self.received.settled().await {
            // A dropped read left bytes: they are the answer to this read.
            let (written, out) = self.write_all(out).await;
            if let Err(e) = written {
                return (Err(e), out, into);
            }
            let (read, into) = self.hand_over(data, into);
            return (read, out, into);
        }
        let op = Op::new(WriteThenRead {
            fd: Rc::clone(&self.fd),
            out,
            into,
            ticket: Ticket::new(&self.received),
        });
        match op.await {
            Ok(done) => done,
            Err(e) => (Err(e), Vec::new(), Vec::new()),
        }
    }

    /// Shuts down reading, writing, or both.
    pub async fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let how = match how {
            Shutdown::Read => libc::SHUT_RD,
            Shutdown::Write => libc::SHUT_WR,
            Shutdown::Both => libc::SHUT_RDWR,
        };
        Op::new(ShutdownOp {
            fd: Rc::clone(&self.fd),
            how,
        })
        .await?
    }
}

struct Connect {
    fd: SharedFd,
    addr: Box<RawAddr>,
}

impl Operation for Connect {
    type Output = io::Result<()>;
    fn entry(&mut self) -> squeue::Entry {
        opcode::Connect::new(
            types::Fd(self.fd.as_raw_fd()),
            self.addr.as_ptr(),
            self.addr.len,
        )
        .build()
    }
    fn complete(self, result: i32) -> io::Result<()> {
        check(result).map(|_| ())
    }
}

/// Writes `buf[from..]`; hands the whole buffer back with the count.
struct WriteRest<B: StableBytes> {
    fd: SharedFd,
    buf: B,
    from: usize,
}

impl<B: StableBytes> Operation for WriteRest<B> {
    type Output = (io::Result<usize>, B);
    fn entry(&mut self) -> squeue::Entry {
        let rest = &self.buf.as_bytes()[self.from..];
        let len = u32::try_from(rest.len()).unwrap_or(u32::MAX);
        opcode::Write::new(types::Fd(self.fd.as_raw_fd()), rest.as_ptr(), len)
            .build()
    }
    fn complete(self, result: i32) -> Self::Output {
        (check(result), self.buf)
    }
}

struct ShutdownOp {
    fd: SharedFd,
    how: libc::c_int,
}

impl Operation for ShutdownOp {
    type Output = io::Result<()>;
    fn entry(&mut self) -> squeue::Entry {
        opcode::Shutdown::new(types::Fd(self.fd.as_raw_fd()), self.how).build()
    }
    fn complete(self, result: i32) -> io::Result<()> {
        check(result).map(|_| ())
    }
}
// ANCHOR_END: stream

// ANCHOR: write-then-read
struct WriteThenRead {
    fd: SharedFd,
    out: Vec<u8>,
    into: Vec<u8>,
    ticket: Ticket<Vec<u8>>,
}

impl Operation for WriteThenRead {
    /// The read's byte count (or the write's error), and both buffers back.
    type Output = (io::Result<usize>, Vec<u8>, Vec<u8>);

    fn linked_first(&mut self) -> Option<squeue::Entry> {
        let len = u32::try_from(self.out.len()).unwrap_or(u32::MAX);
        let send = opcode::Send::new(
            types::Fd(self.fd.as_raw_fd()),
            self.out.as_ptr(),
            len,
        )
        .flags(libc::MSG_WAITALL)
        .build()
        .flags(squeue::Flags::IO_LINK | squeue::Flags::SKIP_SUCCESS);
        Some(send)
    }

    fn entry(&mut self) -> squeue::Entry {
        let capacity = u32::try_from(self.into.capacity()).unwrap_or(u32::MAX);
        opcode::Recv::new(
            types::Fd(self.fd.as_raw_fd()),
            self.into.as_mut_ptr(),
            capacity,
        )
        .build()
    }

    fn complete(self, result: i32) -> Self::Output {
        self.complete_linked(None, result)
    }

    fn complete_linked(self, first: Option<i32>, result: i32) -> Self::Output {
        // A posted write result means the write failed or was short; the
        // read was then cancelled, and the write's error is the one to report.
        if let Some(write) = first {
            let err = match check(write) {
                Err(e) => e,
                Ok(n) => io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short write of {n} bytes"),
                ),
            };
            return (Err(err), self.out, self.into);
        }
        // SAFETY: `result` completes the recv `entry` made into `into`'s
        // capacity, from its start.
        let (read, into) = unsafe { filled(self.into, result) };
        (read, self.out, into)
    }

    /// Dropped: if the read got bytes (the write went out first), they are
    /// kept for the stream's next read.
    fn abandoned(self, result: i32, woken: &mut Vec<Waker>) {
        salvage_read(self.ticket, self.into, result, woken);
    }
}
// ANCHOR_END: write-then-read

/// The running runtime's buffer ring, or an error that says what is missing.
fn current_bufs() -> io::Result<Rc<BufRing>> {
    crate::reactor::Handle::current()
        .and_then(|r| r.with(|r| r.bufs()))
        .ok_or_else(|| {
            io::Error::other(
                "receiving into ring buffers needs a runtime with a provided buffer \
                 ring (Tuning::buffers), inside its block_on",
            )
        })
}

// ANCHOR: send-then-recv
/// What one receive into a ring buffer got.
#[derive(Debug)]
enum Received1 {
    Bytes(Chunk),
    Closed,
    /// Every buffer was out (`-ENOBUFS`); nothing was received.
    NoBuffer,
}

/// A receive that takes a ring buffer, after a linked send of `out` if
/// there is one.
#[derive(Debug)]
struct SendThenRecv {
    fd: SharedFd,
    out: Option<Chunk>,
    bufs: Rc<BufRing>,
    ticket: Option<Ticket<Vec<u8>>>,
    /// Bytes the receive got after its future was dropped.
    salvaged: Option<Vec<u8>>,
}

impl Operation for SendThenRecv {
    type Output = io::Result<Received1>;

    fn linked_first(&mut self) -> Option<squeue::Entry> {
        let out = self.out.as_ref()?.as_bytes();
        let send = opcode::Send::new(
            types::Fd(self.fd.as_raw_fd()),
            out.as_ptr(),
            out.len() as u32,
        )
        .flags(libc::MSG_WAITALL)
        .build()
        .flags(squeue::Flags::IO_LINK | squeue::Flags::SKIP_SUCCESS);
        Some(send)
    }

    fn entry(&mut self) -> squeue::Entry {
        opcode::Recv::new(
            types::Fd(self.fd.as_raw_fd()),
            std::ptr::null_mut(),
            self.bufs.buffer_size(),
        )
        .buf_group(bufring::GROUP)
        .build()
        .flags(squeue::Flags::BUFFER_SELECT)
    }

    fn complete(self, result: i32) -> Self::Output {
        self.complete_with_flags(None, result, 0)
    }

    fn complete_with_flags(
        self,
        first: Option<i32>,
        result: i32,
        flags: u32,
    ) -> Self::Output {
        // SAFETY: this completion is the receive's, from this ring, and it is
        // consumed here, once (the op is taken by value).
        let taken = unsafe { self.bufs.take_from(result, flags) };
        if let Some(send) = first {
            // The send failed or was short; the receive was cancelled.
            return Err(match check(send) {
                Err(e) => e,
                Ok(n) => io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short send of {n} bytes"),
                ),
            });
        }
        if result == -libc::ENOBUFS {
            return Ok(Received1::NoBuffer);
        }
        match (check(result)?, taken) {
            (0, _) | (_, None) => Ok(Received1::Closed),
            (_, Some(buf)) => Ok(Received1::Bytes(Chunk::Ring(buf))),
        }
    }

    fn abandoned_more(&mut self, result: i32, flags: u32, _: &mut Vec<Waker>) {
        // SAFETY: a completion of this receive, delivered here once.
        let bytes = unsafe { self.bufs.take_from(result, flags) };
        if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
            self.salvaged = Some(bytes.to_vec());
        }
    }

    /// Dropped: bytes the receive got are kept for the stream's next read.
    fn abandoned(mut self, _: i32, woken: &mut Vec<Waker>) {
        if let Some(ticket) = self.ticket.take() {
            match self.salvaged.take() {
                Some(data) => ticket.salvage(data, woken),
                None => ticket.end(woken),
            }
        }
    }
}
// ANCHOR_END: send-then-recv

// ANCHOR: received
/// A stream's multishot receive (`TcpStream::recv_many`).
#[derive(Debug)]
pub struct Received<'a> {
    stream: &'a TcpStream,
    recv: Multishot<RecvMany>,
    bufs: Rc<BufRing>,
}

impl Received<'_> {
    /// Completions that came and wait to be taken.
    pub fn queued(&self) -> usize {
        self.recv.queued()
    }

    /// How many times the receive was submitted (again after the kernel
    /// ended it, `-ENOBUFS` say).
    pub fn arms(&self) -> u64 {
        self.recv.arms()
    }

    /// The next bytes, `None` once the peer has closed its side. Bytes a
    /// dropped read or receive of the stream left behind come first.
    pub async fn next(&mut self) -> io::Result<Option<Chunk>> {
        loop {
            if let Some(data) = self.stream.received.settled().await {
                return Ok(Some(Chunk::Salvaged(data)));
            }
            let (result, flags) = self.recv.next_with_flags().await?;
            if result == -libc::ENOBUFS {
                // Every buffer is out; the kernel ended the receive. Once a
                // buffer is back, the next round submits it again.
                self.bufs.a_buffer_is_free().await;
                continue;
            }
            let n = check(result)?;
            // SAFETY: this completion is the receive's, which picked from
            // this ring, and it is taken only here, once.
            let buf = unsafe { self.bufs.take_from(result, flags) };
            // 0 bytes: the peer closed (a buffer, if the kernel named one,
            // goes back as it is dropped).
            return Ok(buf.filter(|_| n > 0).map(Chunk::Ring));
        }
    }
}

/// The multishot receive. Dropped while armed, it is parked and cancelled;
/// what it receives meanwhile is copied for the stream's next read and its
/// buffers go back to the ring.
#[derive(Debug)]
struct RecvMany {
    fd: SharedFd,
    bufs: Rc<BufRing>,
    received: Rc<Salvage<Vec<u8>>>,
    ticket: Option<Ticket<Vec<u8>>>,
}

impl Operation for RecvMany {
    type Output = ();
    fn entry(&mut self) -> squeue::Entry {
        opcode::RecvMulti::new(types::Fd(self.fd.as_raw_fd()), bufring::GROUP)
            .build()
    }
    fn complete(self, _: i32) {}
    fn on_park(&mut self) {
        self.ticket = Some(Ticket::new(&self.received));
    }
    fn abandoned_more(&mut self, result: i32, flags: u32, _: &mut Vec<Waker>) {
        // SAFETY: a completion of this receive, delivered here once.
        let bytes = unsafe { self.bufs.take_from(result, flags) };
        if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
            self.received.keep(bytes.to_vec());
        }
    }
    fn abandoned(mut self, _: i32, woken: &mut Vec<Waker>) {
        if let Some(ticket) = self.ticket.take() {
            ticket.end(woken);
        }
    }
}
// ANCHOR_END: received

// ANCHOR: stream-read
/// A read of the stream, with its ticket on the stream's salvage.
struct StreamRead {
    read: Read,
    ticket: Ticket<Vec<u8>>,
}

impl Operation for StreamRead {
    type Output = (io::Result<usize>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        self.read.entry()
    }
    fn complete(self, result: i32) -> Self::Output {
        self.read.complete(result)
    }
    /// Dropped, and the read got bytes anyway: keep them for the next read.
    fn abandoned(self, result: i32, woken: &mut Vec<Waker>) {
        salvage_read(self.ticket, self.read.buf, result, woken);
    }
}

/// Keeps what a dropped read of `buf` received (`result` bytes), if anything.
fn salvage_read(
    ticket: Ticket<Vec<u8>>,
    buf: Vec<u8>,
    result: i32,
    woken: &mut Vec<Waker>,
) {
    // SAFETY: every caller passes the completion of a read (or recv) into
    // `buf`'s capacity, from its start.
    match unsafe { filled(buf, result) } {
        (Ok(n), data) if n > 0 => ticket.salvage(data, woken),
        _ => ticket.end(woken),
    }
}
// ANCHOR_END: stream-read
