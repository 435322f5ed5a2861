//! The coroutines and requests behave as before on the new runtime: two
//! requests one after the other, both answers, errors as values.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch07_std_future::executor::block_on;
use ch07_std_future::http::HttpGet;
use ch07_std_future::requests::two_requests;
use delayserver::DelayServer;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};

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
    let result = block_on(HttpGet::new(addr, "/")).output;
    server.join().unwrap();
    result
}

#[test]
fn two_requests_yield_both_responses_in_order() {
    let server = DelayServer::start().unwrap();
    let future =
        two_requests(server.addr(), "/150/first".into(), "/0/second".into());
    let spun = block_on(future);
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
    let spun = block_on(two_requests(addr, "/a".into(), "/b".into()));
    server.join().unwrap();
    assert_eq!(spun.output.unwrap(), ["one", "two"]);
}

#[test]
fn a_coroutine_does_nothing_until_polled() {
    let (addr, server) = fake_server(|listener| {
        listener.set_nonblocking(true).unwrap();
        let accepted = listener.accept().map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            accepted,
            Err(ErrorKind::WouldBlock),
            "connected before any poll"
        );
    });
    let coroutine = two_requests(addr, "/a".into(), "/b".into());
    server.join().unwrap();
    drop(coroutine);
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
fn an_error_status_gives_an_error_with_the_reason() {
    let server = DelayServer::start().unwrap();
    let err = block_on(two_requests(
        server.addr(),
        "/0/ok".into(),
        "/soon/x".into(),
    ))
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
    let err = block_on(HttpGet::new(addr, "/0/x")).output.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains("is the delay server running"),
        "{err}"
    );
}
