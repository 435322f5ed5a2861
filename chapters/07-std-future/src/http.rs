//! A future that performs one HTTP GET over a non-blocking mio socket,
//! registered with the reactor, which wakes the future's waker on readiness.

use crate::reactor::reactor;
use mio::Interest;
use mio::net::TcpStream;
use std::future::Future;
use std::io::{self, ErrorKind, Read, Write};
use std::mem;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

// ANCHOR: http-get
/// `GET http://<addr><path>`, as a future whose output is the response body.
#[derive(Debug)]
pub struct HttpGet {
    addr: SocketAddr,
    path: String,
    state: GetState,
    /// The reactor registration, once connecting has started.
    id: Option<usize>,
}

#[derive(Debug)]
enum GetState {
    /// Created, not polled yet: nothing has happened on the network.
    Start,
    /// The connection is being set up; the socket becomes writable when it is.
    Connecting(TcpStream),
    /// Writing the request; `sent` bytes of it have gone out so far.
    Sending {
        stream: TcpStream,
        request: Vec<u8>,
        sent: usize,
    },
    /// Reading the response until the server closes the connection.
    Receiving {
        stream: TcpStream,
        received: Vec<u8>,
    },
    /// The output was handed out; polling again is a bug.
    Done,
}

impl HttpGet {
    /// Creates the future. Nothing is sent until it is polled.
    pub fn new(addr: SocketAddr, path: &str) -> Self {
        HttpGet {
            addr,
            path: path.to_string(),
            state: GetState::Start,
            id: None,
        }
    }
}
// ANCHOR_END: http-get

// ANCHOR: http-get-poll
impl Future for HttpGet {
    type Output = io::Result<String>;

    // ANCHOR: set-waker
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // HttpGet has no self-references, so it is `Unpin` and can be
        // reached through the `Pin` as a plain `&mut`.
        let this = self.get_mut();
        let waker = cx.waker();
        // First of all, make sure an event from now on wakes *this* waker:
        // an event that arrived between a `WouldBlock` below and storing the
        // waker would otherwise wake nobody.
        if let Some(id) = this.id {
            reactor().set_waker(id, waker);
        }
        // ANCHOR_END: set-waker
        loop {
            let state = mem::replace(&mut this.state, GetState::Done);
            this.state = match state {
                GetState::Start => match this.connect(waker) {
                    Ok(stream) => GetState::Connecting(stream),
                    Err(e) => return this.fail("connect", e),
                },
                GetState::Connecting(stream) => match connected(&stream) {
                    Ok(true) => {
                        log::debug!("GET {}: connected", this.path);
                        let request = this.request();
                        GetState::Sending {
                            stream,
                            request,
                            sent: 0,
                        }
                    }
                    Ok(false) => {
                        this.state = GetState::Connecting(stream);
                        return Poll::Pending;
                    }
                    Err(e) => return this.fail("connect", e),
                },
                GetState::Sending {
                    mut stream,
                    request,
                    mut sent,
                } => {
                    match stream.write(&request[sent..]) {
                        Ok(0) => {
                            let e = io::Error::from(ErrorKind::WriteZero);
                            return this.fail("send the request", e);
                        }
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            this.state = GetState::Sending {
                                stream,
                                request,
                                sent,
                            };
                            return Poll::Pending;
                        }
                        Err(e) => return this.fail("send the request", e),
                    }
                    if sent == request.len() {
                        log::debug!("GET {}: request sent", this.path);
                        let received = Vec::new();
                        GetState::Receiving { stream, received }
                    } else {
                        GetState::Sending {
                            stream,
                            request,
                            sent,
                        }
                    }
                }
                GetState::Receiving {
                    mut stream,
                    mut received,
                } => {
                    let mut chunk = [0u8; 4096];
                    match stream.read(&mut chunk) {
                        Ok(0) => {
                            let n = received.len();
                            log::debug!(
                                "GET {}: response complete, {n} bytes",
                                this.path
                            );
                            this.deregister(&mut stream);
                            let body = parse_response(&received);
                            let body = body.map_err(|e| this.context("read", e));
                            return Poll::Ready(body);
                        }
                        Ok(n) => received.extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            this.state = GetState::Receiving { stream, received };
                            return Poll::Pending;
                        }
                        Err(e) => return this.fail("read", e),
                    }
                    GetState::Receiving { stream, received }
                }
                GetState::Done => panic!("HttpGet polled after it returned Ready"),
            };
        }
    }
}
// ANCHOR_END: http-get-poll

// ANCHOR: connect
impl HttpGet {
    /// Starts connecting without waiting, and registers the socket with the
    /// reactor, with the waker to wake when it becomes writable (connected)
    /// or readable (data arrived).
    fn connect(&mut self, waker: &Waker) -> io::Result<TcpStream> {
        let mut stream = TcpStream::connect(self.addr)?;
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.id = Some(reactor().register(&mut stream, interest, waker)?);
        Ok(stream)
    }

    fn deregister(&mut self, stream: &mut TcpStream) {
        if let Some(id) = self.id.take() {
            let _ = reactor().deregister(stream, id);
        }
    }
}

/// Whether a non-blocking connect has finished: `Ok(false)` while it is still
/// in progress, the error if it failed.
fn connected(stream: &TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}
// ANCHOR_END: connect

// ANCHOR: drop
impl Drop for HttpGet {
    fn drop(&mut self) {
        // A request dropped half-way takes its registration (and waker) with it.
        let mut state = mem::replace(&mut self.state, GetState::Done);
        if let GetState::Connecting(stream)
        | GetState::Sending { stream, .. }
        | GetState::Receiving { stream, .. } = &mut state
        {
            self.deregister(stream);
        }
    }
}
// ANCHOR_END: drop

impl HttpGet {
    /// The bytes of the request.
    fn request(&self) -> Vec<u8> {
        let (path, host) = (&self.path, self.addr);
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
            .into_bytes()
    }

    /// Ends the future with an error that says which request failed and where.
    fn fail(&self, step: &str, e: io::Error) -> Poll<io::Result<String>> {
        Poll::Ready(Err(self.context(step, e)))
    }

    /// Says which request failed and at which step.
    fn context(&self, step: &str, e: io::Error) -> io::Error {
        let hint = if e.kind() == ErrorKind::ConnectionRefused {
            "; is the delay server running at that address?"
        } else {
            ""
        };
        io::Error::new(
            e.kind(),
            format!(
                "GET http://{}{}: could not {step}: {e}{hint}",
                self.addr, self.path
            ),
        )
    }
}

// ANCHOR: parse-response
/// Checks a complete HTTP/1.1 response and returns its body.
pub fn parse_response(raw: &[u8]) -> io::Result<String> {
    let invalid = |msg: String| io::Error::new(ErrorKind::InvalidData, msg);
    if raw.is_empty() {
        return Err(invalid(
            "the server closed the connection without answering".into(),
        ));
    }
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(invalid(format!(
            "the response ended after {} bytes, before its headers did",
            raw.len()
        )));
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let body = &raw[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = match status_line.split_once(' ') {
        Some((version, status)) if version.starts_with("HTTP/1.") => status,
        _ => {
            return Err(invalid(format!(
                "not an HTTP response: status line {status_line:?}"
            )));
        }
    };
    // Content-Length, when present, tells whether the whole body arrived.
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            let expected: usize = value
                .trim()
                .parse()
                .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?;
            if body.len() != expected {
                return Err(invalid(format!(
                    "the body has {} bytes but Content-Length says {expected}",
                    body.len()
                )));
            }
        }
    }
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| invalid("the body is not UTF-8".into()))?;
    if !status.starts_with("200") {
        return Err(invalid(format!(
            "the server answered {status}: {}",
            body.trim()
        )));
    }
    Ok(body)
}
// ANCHOR_END: parse-response

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn parses_a_complete_response() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(parse_response(raw).unwrap(), "hello");
    }

    #[test]
    fn refuses_broken_responses_with_a_reason() {
        for (raw, reason) in [
            (&b""[..], "without answering"),
            (b"HTTP/1.1 200 OK\r\nContent-Len", "before its headers did"),
            (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhal",
                "Content-Length says 9",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                "bad Content-Length",
            ),
            (
                b"HTTP/1.1 400 Bad Request\r\n\r\nno\n",
                "answered 400 Bad Request: no",
            ),
        ] {
            let err = parse_response(raw).unwrap_err().to_string();
            assert!(err.contains(reason), "{err:?} should contain {reason:?}");
        }
    }
}
