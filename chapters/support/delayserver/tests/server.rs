//! The delay server over real sockets: answers, delays, malformed requests,
//! concurrency and shutdown.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use delayserver::DelayServer;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Sends `raw` and returns the whole response.
fn exchange(server: &DelayServer, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(raw).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn get(server: &DelayServer, path: &str) -> String {
    exchange(
        server,
        format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes(),
    )
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").unwrap().1
}

#[test]
fn answers_with_the_text() {
    let server = DelayServer::start().unwrap();
    assert!(server.addr().ip().is_loopback());
    let response = get(&server, "/0/hello%2C%20world");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("Content-Length: 12\r\n"), "{response}");
    assert_eq!(body(&response), "hello, world");
}

#[test]
fn waits_at_least_the_delay() {
    let server = DelayServer::start().unwrap();
    let start = Instant::now();
    assert_eq!(body(&get(&server, "/120/late")), "late");
    // A lower bound only: the server must not answer early.
    assert!(start.elapsed() >= Duration::from_millis(120));
}

#[test]
fn malformed_requests_get_400_and_the_server_keeps_serving() {
    let server = DelayServer::start().unwrap();
    for raw in [
        &b"GET /soon/x HTTP/1.1\r\n\r\n"[..],
        b"GET /10 HTTP/1.1\r\n\r\n",
        b"this is not http\r\n\r\n",
        b"GET /1/x HTTP/1.1\r\nHost: cut short",
        b"\x00\xff\xfe garbage \r\n\r\n",
        &[b'A'; 20_000],
    ] {
        let response = exchange(&server, raw);
        assert!(
            response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{:?} got {response:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(40)])
        );
        assert!(!body(&response).trim().is_empty(), "a 400 says why");
    }
    let response = exchange(&server, b"PUT /1/x HTTP/1.1\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 405"), "{response}");
    // A client that connects and leaves without a word does not hurt either.
    drop(TcpStream::connect(server.addr()).unwrap());
    assert_eq!(body(&get(&server, "/0/still-here")), "still-here");
}

#[test]
fn serves_many_connections_at_once() {
    let server = DelayServer::start().unwrap();
    // 50 clients each ask for a 300 ms delay; all connections are open at the
    // same time, and each gets its own text back.
    let clients: Vec<_> = (0..50)
        .map(|i| {
            let mut stream = TcpStream::connect(server.addr()).unwrap();
            write!(stream, "GET /300/client-{i} HTTP/1.1\r\n\r\n").unwrap();
            stream
        })
        .collect();
    for (i, mut stream) in clients.into_iter().enumerate() {
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert_eq!(body(&response), format!("client-{i}"));
    }
}

#[test]
fn drop_closes_pending_connections_and_returns() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let mut waiting = TcpStream::connect(addr).unwrap();
    waiting
        .write_all(b"GET /60000/never HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut silent = TcpStream::connect(addr).unwrap();
    // Give the server a moment, so that the request is usually in its delay
    // when the server is dropped; the assertions hold either way.
    std::thread::sleep(Duration::from_millis(50));
    drop(server); // must not wait for the minute-long delay
    let mut rest = Vec::new();
    waiting.read_to_end(&mut rest).unwrap_or_default();
    assert!(rest.is_empty(), "no answer after shutdown");
    silent.read_to_end(&mut rest).unwrap_or_default();
    assert!(TcpStream::connect(addr).is_err(), "the port is closed");
}

#[test]
fn binding_a_used_port_explains_itself() {
    let first = DelayServer::start().unwrap();
    let err = DelayServer::bind(first.addr()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("cannot listen on"), "{message}");
    assert!(
        message.contains("another program is using that port"),
        "{message}"
    );
}
