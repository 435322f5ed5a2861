//! TCP and UDP as io_uring operations. Everything the kernel reads or writes
//! later (buffers, socket addresses, message headers, iovecs) lives in the
//! operation, on the heap, until its completion.

use crate::op::{Op, Operation, Read, SharedFd, Write, check, filled};
use io_uring::{opcode, squeue, types};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;

// ANCHOR: sockaddr
/// A socket address in the form the kernel reads and writes.
struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawAddr {
    fn empty() -> Box<RawAddr> {
        Box::new(RawAddr {
            // SAFETY: sockaddr_storage is plain integers; all zeros is valid.
            storage: unsafe { zeroed() },
            len: size_of::<libc::sockaddr_storage>() as libc::socklen_t,
        })
    }

    fn from(addr: SocketAddr) -> Box<RawAddr> {
        let mut raw = RawAddr::empty();
        match addr {
            SocketAddr::V4(v4) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(v4.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: a sockaddr_in fits in a sockaddr_storage, which is
                // aligned for any socket address type.
                unsafe {
                    std::ptr::write(
                        (&mut raw.storage as *mut libc::sockaddr_storage).cast(),
                        sin,
                    )
                };
                raw.len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(v6) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: v6.ip().octets(),
                    },
                    sin6_scope_id: v6.scope_id(),
                };
                // SAFETY: as above, for a sockaddr_in6.
                unsafe {
                    std::ptr::write(
                        (&mut raw.storage as *mut libc::sockaddr_storage).cast(),
                        sin6,
                    )
                };
                raw.len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        raw
    }

    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        match i32::from(self.storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let sin: libc::sockaddr_in = unsafe {
                    std::ptr::read(
                        (&self.storage as *const libc::sockaddr_storage).cast(),
                    )
                };
                let ip =
                    std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Ok(SocketAddr::from((ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let sin6: libc::sockaddr_in6 = unsafe {
                    std::ptr::read(
                        (&self.storage as *const libc::sockaddr_storage).cast(),
                    )
                };
                let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Ok(SocketAddr::from((ip, u16::from_be(sin6.sin6_port))))
            }
            family => Err(io::Error::other(format!(
                "unexpected address family {family}"
            ))),
        }
    }

    fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        (&mut self.storage as *mut libc::sockaddr_storage).cast()
    }
}
// ANCHOR_END: sockaddr

fn cvt(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

fn socket(addr: &SocketAddr, kind: libc::c_int) -> io::Result<OwnedFd> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: socket has no pointer arguments.
    let fd = cvt(unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn context(e: io::Error, what: String) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn local_addr(fd: &OwnedFd) -> io::Result<SocketAddr> {
    let mut raw = RawAddr::empty();
    // SAFETY: `raw` has room for any address and `len` says how much.
    cvt(unsafe {
        libc::getsockname(fd.as_raw_fd(), raw.as_mut_ptr(), &mut raw.len)
    })?;
    raw.to_socket_addr()
}

/// Flattens an operation's two results: the reactor's and the kernel's.
async fn run<T: Operation<Output = (io::Result<usize>, Vec<u8>)>>(
    op: Op<T>,
) -> (io::Result<usize>, Vec<u8>) {
    match op.await {
        Ok(done) => done,
        Err(e) => (Err(e), Vec::new()),
    }
}

// ANCHOR: listener
/// A TCP socket listening for connections.
#[derive(Debug)]
pub struct TcpListener {
    fd: SharedFd,
    local: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr` (port 0: the system picks one), with room for 1,024
    /// connections waiting to be accepted.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let fail = |e| context(e, format!("cannot listen on {addr}"));
        let fd = socket(&addr, libc::SOCK_STREAM).map_err(fail)?;
        let one: libc::c_int = 1;
        let raw = RawAddr::from(addr);
        // SAFETY: setsockopt reads `one` (an int, as SO_REUSEADDR wants), bind
        // reads `raw.len` bytes of `raw`, listen has no pointers.
        unsafe {
            cvt(libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            ))
            .map_err(fail)?;
            cvt(libc::bind(fd.as_raw_fd(), raw.as_ptr(), raw.len)).map_err(fail)?;
            cvt(libc::listen(fd.as_raw_fd(), 1024)).map_err(fail)?;
        }
        let local = local_addr(&fd)?;
        Ok(TcpListener {
            fd: Rc::new(fd),
            local,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Waits for a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let op = Op::new(Accept {
            fd: Rc::clone(&self.fd),
            addr: RawAddr::empty(),
        });
        let (fd, peer) = op
            .await?
            .map_err(|e| context(e, format!("accept on {}", self.local)))?;
        Ok((
            TcpStream {
                fd: Rc::new(fd),
                peer,
            },
            peer,
        ))
    }
}

struct Accept {
    fd: SharedFd,
    /// Where the kernel writes the peer's address, after the submission.
    addr: Box<RawAddr>,
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
    /// connection: close it, or it would leak.
    fn abandoned(self, result: i32) {
        if result >= 0 {
            // SAFETY: the kernel created this descriptor for us; nobody else
            // has seen it.
            drop(unsafe { OwnedFd::from_raw_fd(result) });
        }
    }
}
// ANCHOR_END: listener

// ANCHOR: stream
/// A TCP connection.
#[derive(Debug)]
pub struct TcpStream {
    fd: SharedFd,
    peer: SocketAddr,
}

impl TcpStream {
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
        Ok(TcpStream { fd, peer: addr })
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Sends small writes at once instead of waiting to merge them (Nagle).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        let value = libc::c_int::from(on);
        // SAFETY: setsockopt reads the int it is given the size of.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&value as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        })
        .map(|_| ())
    }

    /// Reads up to `buf.capacity()` bytes; 0 means the peer closed its side.
    pub async fn read(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        run(Op::new(Read {
            fd: Rc::clone(&self.fd),
            buf,
        }))
        .await
    }

    /// Writes some of `buf`; the count says how much.
    pub async fn write(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        run(Op::new(Write {
            fd: Rc::clone(&self.fd),
            buf,
        }))
        .await
    }

    /// Writes all of `buf`, however many writes that takes. The buffer goes to
    /// the kernel whole; only after a short write is the rest copied out.
    pub async fn write_all(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let (result, buf) = self.write(buf).await;
        let mut written = match result {
            Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
            Ok(n) => n,
            Err(e) => return (Err(e), buf),
        };
        while written < buf.len() {
            let (result, rest) = self.write(buf[written..].to_vec()).await;
            drop(rest);
            match result {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                Ok(n) => written += n,
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
        let op = Op::new(WriteThenRead {
            fd: Rc::clone(&self.fd),
            out,
            into,
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

// ANCHOR: write-then-read
struct WriteThenRead {
    fd: SharedFd,
    out: Vec<u8>,
    into: Vec<u8>,
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
}
// ANCHOR_END: write-then-read

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

// ANCHOR: udp
/// A UDP socket.
#[derive(Debug)]
pub struct UdpSocket {
    fd: SharedFd,
    local: SocketAddr,
}

impl UdpSocket {
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
        })
    }

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
        let (result, buf) = run(Op::new(SendMsg(msg, Rc::clone(&self.fd)))).await;
        (
            result.map_err(|e| context(e, format!("send to {addr}"))),
            buf,
        )
    }

    /// Receives one datagram into `buf` (up to its capacity), and who sent it.
    pub async fn recv_from(
        &self,
        buf: Vec<u8>,
    ) -> (io::Result<(usize, SocketAddr)>, Vec<u8>) {
        let op = Op::new(RecvMsg(
            Message::new(buf, RawAddr::empty()),
            Rc::clone(&self.fd),
        ));
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
            .map(|_| ())
            .map_err(|e| context(e, format!("connect a UDP socket to {addr}")))
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        run(Op::new(Send {
            fd: Rc::clone(&self.fd),
            buf,
        }))
        .await
    }

    /// Receives from the connected peer.
    pub async fn recv(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        run(Op::new(Recv {
            fd: Rc::clone(&self.fd),
            buf,
        }))
        .await
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

struct RecvMsg(Box<Message>, SharedFd);

impl Operation for RecvMsg {
    type Output = (io::Result<(usize, SocketAddr)>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        let capacity = self.0.buf.capacity();
        self.0.addr.len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let hdr = self.0.point(capacity);
        opcode::RecvMsg::new(types::Fd(self.1.as_raw_fd()), hdr).build()
    }
    fn complete(self, result: i32) -> Self::Output {
        let mut message = self.0;
        let buf = std::mem::take(&mut message.buf);
        // SAFETY: `result` completes the recvmsg whose one iovec `entry`
        // pointed at this buffer's capacity, from its start.
        let (read, buf) = unsafe { filled(buf, result) };
        message.addr.len = message.hdr.msg_namelen;
        let received = read.and_then(|n| Ok((n, message.addr.to_socket_addr()?)));
        (received, buf)
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
}
// ANCHOR_END: udp
