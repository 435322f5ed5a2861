//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch02_corofy::exercises::{fetch_in_order, fetch_with_retry};
use ch02_corofy::first_of::first_of;
use ch02_corofy::requests::fetch;
use ch02_corofy::runtime::block_on_spinning;
use delayserver::DelayServer;
use std::io::{Read, Write};
use std::net::TcpListener;

#[test]
fn fetch_in_order_gets_every_path_in_turn() {
    let server = DelayServer::start().unwrap();
    let paths = vec!["/20/one".to_string(), "/0/two".into(), "/10/three".into()];
    let bodies = block_on_spinning(fetch_in_order(server.addr(), paths)).output;
    assert_eq!(bodies.unwrap(), ["one", "two", "three"]);
    let none = block_on_spinning(fetch_in_order(server.addr(), Vec::new()));
    assert_eq!((none.output.unwrap().len(), none.polls), (0, 1));
}

/// A server that refuses the first `failures` requests with a 503.
fn flaky_server(failures: usize, total: usize) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for i in 0..total {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let response: &[u8] = if i < failures {
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"
            };
            stream.write_all(response).unwrap();
        }
    });
    addr
}

#[test]
fn fetch_with_retry_tries_again_after_a_failure() {
    let addr = flaky_server(2, 3);
    let body = block_on_spinning(fetch_with_retry(addr, "/x".into(), 3)).output;
    assert_eq!(body.unwrap(), "final");
}

#[test]
fn fetch_with_retry_gives_up_after_the_last_attempt() {
    let addr = flaky_server(2, 2);
    let err = block_on_spinning(fetch_with_retry(addr, "/x".into(), 2))
        .output
        .unwrap_err();
    assert!(err.to_string().contains("503 Service Unavailable"), "{err}");
}

#[test]
fn first_of_returns_the_quickest() {
    let server = DelayServer::start().unwrap();
    let paths = ["/300/slow", "/20/quick", "/200/medium"];
    let first =
        block_on_spinning(first_of(paths.map(|p| fetch(server.addr(), p.into()))));
    let (index, body) = first.output.unwrap();
    assert_eq!((index, body.unwrap().as_str()), (1, "quick"));
    let nothing =
        block_on_spinning(first_of(Vec::<ch02_corofy::requests::Fetch>::new()));
    assert!(nothing.output.is_none());
}
