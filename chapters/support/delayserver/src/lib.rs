//! A tiny HTTP/1.1 server for the chapters of Parts I and II.
//!
//! `GET /<ms>/<text>` is answered with `<text>` after `<ms>` milliseconds. Every
//! connection gets a thread of its own, so many slow requests can be in flight at
//! once, which is exactly what the chapters need to show concurrency. A request
//! the server cannot understand gets `400 Bad Request` with a one-line reason and
//! never stops the server.
//!
//! [`DelayServer::start`] binds an ephemeral port on 127.0.0.1, so a chapter can
//! start its own server and needs nothing else running. Dropping the server stops
//! it: pending delays are cut short, open connections are closed and every thread
//! it started has finished by the time `drop` returns.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest delay a request may ask for (one minute).
pub const MAX_DELAY_MS: u64 = 60_000;
/// The longest request head (request line plus headers) the server reads.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server waits for a client to close after the response.
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);

/// A running delay server. Dropping it shuts it down.
#[derive(Debug)]
pub struct DelayServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when the server starts shutting down.
    stopping: Condvar,
}

#[derive(Debug, Default)]
struct State {
    shutting_down: bool,
    next_id: u64,
    /// A second handle to every open connection, so shutdown can close them.
    open: HashMap<u64, TcpStream>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked cannot leave `State` half-updated (every
        // update is a single insert, remove or flag store), so carry on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DelayServer {
    /// Starts a server on 127.0.0.1 with a port chosen by the operating system.
    pub fn start() -> io::Result<Self> {
        Self::bind("127.0.0.1:0")
    }

    /// Starts a server on `addr`.
    pub fn bind(addr: impl ToSocketAddrs + std::fmt::Debug) -> io::Result<Self> {
        let listener = TcpListener::bind(&addr).map_err(|e| {
            let hint = if e.kind() == io::ErrorKind::AddrInUse {
                "; another program is using that port: stop it, pick another port, \
                 or use port 0 to let the system choose"
            } else {
                ""
            };
            io::Error::new(
                e.kind(),
                format!("delay server: cannot listen on {addr:?}: {e}{hint}"),
            )
        })?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = thread::Builder::new()
            .name("delayserver-accept".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(listener, shared)
            })?;
        log::info!("delay server listening on http://{addr}");
        Ok(DelayServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks the calling thread for as long as the server runs (for the
    /// standalone binary, which is stopped with Ctrl-C).
    pub fn run_forever(mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

impl Drop for DelayServer {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.shutting_down = true;
            for stream in state.open.values() {
                // Unblocks a handler waiting for its request; the error (the peer
                // may be gone already) does not matter.
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        self.shared.stopping.notify_all();
        // The acceptor is blocked in `accept`: a connection of our own wakes it,
        // and it sees the flag before serving it.
        let mut wake_addr = self.addr;
        if wake_addr.ip().is_unspecified() {
            wake_addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        log::info!("delay server on {} stopped", self.addr);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut handlers: Vec<JoinHandle<()>> = Vec::new();
    for conn in listener.incoming() {
        if shared.lock().shutting_down {
            break;
        }
        handlers.retain(|h| !h.is_finished());
        let stream = match conn {
            Ok(stream) => stream,
            Err(e) => {
                // Running out of file descriptors, for example: keep serving.
                log::warn!("delay server: accept failed: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let id = match register(&shared, &stream) {
            Ok(id) => id,
            Err(e) => {
                log::warn!("delay server: cannot track a connection: {e}");
                continue;
            }
        };
        let spawned = thread::Builder::new()
            .name(format!("delayserver-conn-{id}"))
            .spawn({
                let shared = Arc::clone(&shared);
                move || {
                    let peer = stream.peer_addr().ok();
                    if let Err(e) = serve(stream, &shared) {
                        log::debug!("delay server: connection from {peer:?}: {e}");
                    }
                    shared.lock().open.remove(&id);
                }
            });
        match spawned {
            Ok(handle) => handlers.push(handle),
            Err(e) => {
                log::warn!("delay server: cannot start a connection thread: {e}");
                shared.lock().open.remove(&id);
            }
        }
    }
    for handler in handlers {
        let _ = handler.join();
    }
}

fn register(shared: &Shared, stream: &TcpStream) -> io::Result<u64> {
    let clone = stream.try_clone()?;
    let mut state = shared.lock();
    let id = state.next_id;
    state.next_id += 1;
    state.open.insert(id, clone);
    Ok(id)
}

/// A request the server understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// How long to wait before answering.
    pub delay: Duration,
    /// The text to answer with (percent-decoded).
    pub text: String,
}

/// Why a request was refused: the status line to send and a reason for the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: &'static str,
    pub reason: String,
}

fn bad_request(reason: impl Into<String>) -> Refusal {
    Refusal {
        status: "400 Bad Request",
        reason: reason.into(),
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(HEAD_TIMEOUT))?;
    let head = match read_head(&mut stream)? {
        Some(head) => head,
        None => return Ok(()), // closed before sending a request
    };
    match parse_request(&head) {
        Ok(request) => {
            if !wait(shared, request.delay) {
                return Ok(()); // shutting down: drop the connection
            }
            log::info!(
                "GET /{}/{} answered after {:?}",
                request.delay.as_millis(),
                request.text,
                request.delay
            );
            respond(&mut stream, "200 OK", &request.text)
        }
        Err(refusal) => {
            log::info!("refused a request: {}", refusal.reason);
            respond(
                &mut stream,
                refusal.status,
                &format!("{}\n", refusal.reason),
            )
        }
    }
}

/// Reads up to the blank line that ends the request head. `Ok(None)` means the
/// client closed the connection without sending anything; a head that is cut
/// short or too long is returned as it is, for the parser to refuse.
fn read_head(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok((!head.is_empty()).then_some(head));
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > MAX_HEAD_BYTES
        {
            return Ok(Some(head));
        }
    }
}

/// Sleeps for `delay` unless the server shuts down first; returns whether the
/// whole delay passed.
fn wait(shared: &Shared, delay: Duration) -> bool {
    let deadline = Instant::now() + delay;
    let mut state = shared.lock();
    loop {
        if state.shutting_down {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        state = shared
            .stopping
            .wait_timeout(state, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()?;
    // Half-close so the client sees the end of the response at once. Then read
    // until the client closes: closing a socket with unread input makes the
    // kernel send a reset, which can destroy the response before it is read.
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(LINGER_TIMEOUT))?;
    let mut sink = [0u8; 512];
    while stream.read(&mut sink)? > 0 {}
    Ok(())
}

/// Parses a request head: `GET /<ms>/<text> HTTP/1.x` followed by headers.
pub fn parse_request(head: &[u8]) -> Result<Request, Refusal> {
    if head.len() > MAX_HEAD_BYTES {
        return Err(bad_request(format!(
            "request head longer than {MAX_HEAD_BYTES} bytes"
        )));
    }
    let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(bad_request("request head does not end with an empty line"));
    };
    let head = std::str::from_utf8(&head[..end])
        .map_err(|_| bad_request("request head is not valid UTF-8"))?;
    let request_line = head.split("\r\n").next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_request(format!(
            "request line {request_line:?} is not `METHOD /path HTTP/1.1`"
        )));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad_request(format!("unsupported protocol {version:?}")));
    }
    if method != "GET" {
        return Err(Refusal {
            status: "405 Method Not Allowed",
            reason: format!("only GET is supported, not {method:?}"),
        });
    }
    let path = target.split('?').next().unwrap_or_default();
    let usage =
        || bad_request(format!("path {path:?} is not /<milliseconds>/<text>"));
    let rest = path.strip_prefix('/').ok_or_else(usage)?;
    let (ms, text) = rest.split_once('/').ok_or_else(usage)?;
    if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return Err(usage());
    }
    let ms: u64 = ms
        .parse()
        .ok()
        .filter(|&ms| ms <= MAX_DELAY_MS)
        .ok_or_else(|| {
            bad_request(format!("delay {ms} ms is over {MAX_DELAY_MS} ms"))
        })?;
    Ok(Request {
        delay: Duration::from_millis(ms),
        text: percent_decode(text)?,
    })
}

fn percent_decode(text: &str) -> Result<String, Refusal> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    bad_request(format!("bad percent escape in {text:?}"))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| bad_request(format!("{text:?} is not UTF-8 once decoded")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Request, Refusal> {
        parse_request(s.as_bytes())
    }

    #[test]
    fn parses_delay_and_text() {
        let r =
            parse("GET /150/hello%20world HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(r.delay, Duration::from_millis(150));
        assert_eq!(r.text, "hello world");
        let r = parse("GET /0/a/b?x=1 HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!((r.delay, r.text.as_str()), (Duration::ZERO, "a/b"));
    }

    #[test]
    fn refuses_malformed_requests() {
        for (input, expect) in [
            (
                "GET /abc/x HTTP/1.1\r\n\r\n",
                "is not /<milliseconds>/<text>",
            ),
            ("GET /100 HTTP/1.1\r\n\r\n", "is not /<milliseconds>/<text>"),
            (
                "GET 100/x HTTP/1.1\r\n\r\n",
                "is not /<milliseconds>/<text>",
            ),
            (
                "GET /-5/x HTTP/1.1\r\n\r\n",
                "is not /<milliseconds>/<text>",
            ),
            ("GET //x HTTP/1.1\r\n\r\n", "is not /<milliseconds>/<text>"),
            ("GET /99999999/x HTTP/1.1\r\n\r\n", "is over 60000 ms"),
            ("GET /1/x HTTP/2\r\n\r\n", "unsupported protocol"),
            ("GET /1/x\r\n\r\n", "is not `METHOD /path HTTP/1.1`"),
            ("GET /1/%zz HTTP/1.1\r\n\r\n", "bad percent escape"),
            ("GET /1/%ff HTTP/1.1\r\n\r\n", "is not UTF-8 once decoded"),
            ("GET /1/x HTTP/1.1\r\n", "does not end with an empty line"),
            ("\r\n\r\n", "is not `METHOD /path HTTP/1.1`"),
        ] {
            let refusal = parse(input).unwrap_err();
            assert_eq!(refusal.status, "400 Bad Request", "{input:?}");
            assert!(refusal.reason.contains(expect), "{input:?}: {refusal:?}");
        }
        let refusal = parse("POST /1/x HTTP/1.1\r\n\r\n").unwrap_err();
        assert_eq!(refusal.status, "405 Method Not Allowed");
    }

    #[test]
    fn refuses_an_overlong_head() {
        let mut head = b"GET /1/x HTTP/1.1\r\nX: ".to_vec();
        head.resize(MAX_HEAD_BYTES + 10, b'a');
        assert!(
            parse_request(&head)
                .unwrap_err()
                .reason
                .contains("longer than")
        );
    }
}
