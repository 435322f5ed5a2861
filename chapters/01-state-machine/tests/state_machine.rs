//! The chapter's claims, checked: the state machine makes its two requests one
//! after the other and returns both answers, bad servers give error values
//! instead of panics, and the driver really spins.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch01_state_machine::future::{Future, PollState};
use ch01_state_machine::http::HttpGet;
use ch01_state_machine::runtime::block_on_spinning;
use ch01_state_machine::two_requests::TwoRequests;
use delayserver::DelayServer;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A one-off server on 127.0.0.1 that runs `script` on its listener.
fn fake_server(
    script: impl FnOnce(TcpListener) + Send + 'static,
) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, thread::spawn(move || script(listener)))
}

/// Reads a request head; returns how many bytes it had.
fn read_request(stream: &mut TcpStream) -> usize {
    let mut head = Vec::new();
    let mut byte = [0u8; 64 * 1024];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert!(n > 0, "client closed before finishing its request");
        head.extend_from_slice(&byte[..n]);
    }
    head.len()
}

fn answer(stream: &mut TcpStream, body: &str) {
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).unwrap();
}

/// Runs a single `GET /` against a server that behaves as `script` says.
fn get_from(
    script: impl FnOnce(TcpListener) + Send + 'static,
) -> std::io::Result<String> {
    let (addr, server) = fake_server(script);
    let result = block_on_spinning(HttpGet::new(addr, "/")).output;
    server.join().unwrap();
    result
}

#[test]
fn two_requests_yield_both_responses_in_order() {
    let server = DelayServer::start().unwrap();
    let future = TwoRequests::new(server.addr(), "/150/first", "/0/second");
    let spun = block_on_spinning(future);
    assert_eq!(spun.output.unwrap(), ["first", "second"]);
}

#[test]
fn the_second_request_starts_only_after_the_first_response() {
    let (addr, server) = fake_server(|listener| {
        let (mut first, _) = listener.accept().unwrap();
        read_request(&mut first);
        // Had both requests been started at once, the second connection would
        // be waiting in the accept queue by now (connect returns only after the
        // handshake, and both would happen before the first poll returned).
        listener.set_nonblocking(true).unwrap();
        let early = listener.accept().map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            early,
            Err(ErrorKind::WouldBlock),
            "second request came early"
        );
        listener.set_nonblocking(false).unwrap();
        answer(&mut first, "one");
        drop(first);
        let (mut second, _) = listener.accept().unwrap();
        second.set_nonblocking(false).unwrap();
        read_request(&mut second);
        answer(&mut second, "two");
    });
    let spun = block_on_spinning(TwoRequests::new(addr, "/a", "/b"));
    server.join().unwrap();
    assert_eq!(spun.output.unwrap(), ["one", "two"]);
}

#[test]
fn a_server_that_closes_without_answering_gives_an_error() {
    let err = get_from(|listener| {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&mut stream);
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let message = err.to_string();
    assert!(message.contains("GET http://127.0.0.1:"), "{message}");
    assert!(
        message.contains("closed the connection without answering"),
        "{message}"
    );
}

#[test]
fn a_garbage_answer_gives_an_error() {
    let err = get_from(|listener| {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&mut stream);
        stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").unwrap();
    })
    .unwrap_err();
    assert!(err.to_string().contains("not an HTTP response"), "{err}");
}

#[test]
fn a_body_cut_short_gives_an_error() {
    let err = get_from(|listener| {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&mut stream);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            .unwrap();
    })
    .unwrap_err();
    assert!(err.to_string().contains("Content-Length says 100"), "{err}");
}

#[test]
fn an_error_status_gives_an_error_with_the_reason() {
    let server = DelayServer::start().unwrap();
    let err =
        block_on_spinning(TwoRequests::new(server.addr(), "/0/ok", "/soon/x"))
            .output
            .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("GET http://") && message.contains("/soon/x"),
        "{message}"
    );
    assert!(message.contains("400 Bad Request"), "{message}");
}

#[test]
fn nobody_listening_gives_connection_refused_with_a_hint() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The listener is dropped: nothing listens on `addr` any more.
    let err = block_on_spinning(HttpGet::new(addr, "/0/x"))
        .output
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains("is the delay server running"),
        "{err}"
    );
}

#[test]
fn a_response_in_many_pieces_is_put_together() {
    let body = "0123456789".repeat(50);
    let expected = body.clone();
    let got = get_from(move |listener| {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&mut stream);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        for piece in response.as_bytes().chunks(37) {
            stream.write_all(piece).unwrap();
            stream.flush().unwrap();
            thread::sleep(Duration::from_millis(1)); // separate reads, usually
        }
    })
    .unwrap();
    assert_eq!(got, expected);
}

#[test]
fn a_request_larger_than_the_socket_buffers_arrives_whole() {
    // 16 MiB cannot fit in loopback socket buffers, so `write` accepts only part
    // of it at a time: the future must keep count of what went out.
    let path = format!("/{}", "x".repeat(16 << 20));
    let (addr, server) = fake_server(|listener| {
        let (mut stream, _) = listener.accept().unwrap();
        let received = read_request(&mut stream);
        answer(&mut stream, &received.to_string());
    });
    let spun = block_on_spinning(HttpGet::new(addr, &path));
    server.join().unwrap();
    let expected_len =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .len();
    assert_eq!(spun.output.unwrap(), expected_len.to_string());
}

#[test]
fn the_loop_polls_far_more_often_than_there_are_states() {
    let server = DelayServer::start().unwrap();
    let spun = block_on_spinning(TwoRequests::new(server.addr(), "/50/a", "/50/b"));
    spun.output.unwrap();
    // TwoRequests has four states; a loop that waited for events would poll a
    // handful of times. This one polls through each of the 100 ms of waiting
    // (typically tens of thousands of times; 100 leaves room for a busy machine).
    assert!(spun.polls > 100, "only {} polls", spun.polls);
}

/// A future that is not ready `n` times, then ready.
struct ReadyAfter(u32);

impl Future for ReadyAfter {
    type Output = &'static str;
    fn poll(&mut self) -> PollState<&'static str> {
        if self.0 == 0 {
            return PollState::Ready("done");
        }
        self.0 -= 1;
        PollState::NotReady
    }
}

#[test]
fn block_on_spinning_counts_every_poll() {
    let spun = block_on_spinning(ReadyAfter(7));
    assert_eq!((spun.output, spun.polls), ("done", 8));
}

#[test]
fn a_future_does_nothing_until_polled() {
    let (addr, server) = fake_server(|listener| {
        listener.set_nonblocking(true).unwrap();
        let accepted = listener.accept().map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            accepted,
            Err(ErrorKind::WouldBlock),
            "connected before any poll"
        );
    });
    let future = HttpGet::new(addr, "/0/x");
    server.join().unwrap();
    drop(future);
}
