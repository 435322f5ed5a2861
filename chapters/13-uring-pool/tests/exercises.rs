//! The exercise solutions do what the exercises ask, and lose nothing.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::pool_or_skip;
use ch13_uring_pool::exercises::{accept_either, read_until_quiet};
use ch13_uring_pool::net::TcpListener;
use ch13_uring_pool::task::timeout;
use std::io::Write;
use std::time::Duration;

#[test]
fn reading_until_quiet_gets_each_burst_whole_and_the_next_one_after() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            // Bursts as far apart as the quiet time: a burst often begins
            // just as a read loses its race, and its first bytes are
            // salvaged for the next call.
            let writer = std::thread::spawn(move || {
                let mut peer = std::net::TcpStream::connect(addr).unwrap();
                for burst in 0..5 {
                    for piece in 0..20 {
                        let text = format!("{burst}.{piece};");
                        peer.write_all(text.as_bytes()).unwrap();
                    }
                    std::thread::sleep(Duration::from_millis(30));
                }
            });
            let (stream, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            // Bounded: with a byte lost, the total would never be reached.
            for _ in 0..200 {
                if all.len() >= expected().len() {
                    break;
                }
                let burst = read_until_quiet(&stream, Duration::from_millis(30))
                    .await
                    .unwrap();
                all.extend_from_slice(&burst);
            }
            writer.join().unwrap();
            assert_eq!(String::from_utf8(all).unwrap(), expected());
        })
        .unwrap();
}

fn expected() -> String {
    (0..5)
        .flat_map(|burst| (0..20).map(move |piece| format!("{burst}.{piece};")))
        .collect()
}

#[test]
fn accepting_from_either_listener_loses_no_connection() {
    let Some(runtime) = pool_or_skip(2) else {
        return;
    };
    runtime
        .block_on(async {
            let a = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let b = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let mut clients = Vec::new();
            let mut peers = Vec::new();
            for round in 0..50 {
                // Both listeners have a connection waiting at once: the
                // race picks one, and the other must not be lost.
                clients.push(std::net::TcpStream::connect(a.local_addr()).unwrap());
                clients.push(std::net::TcpStream::connect(b.local_addr()).unwrap());
                for _ in 0..2 {
                    let next =
                        timeout(Duration::from_secs(10), accept_either(&a, &b));
                    let (_, peer) =
                        next.await.expect("a connection was lost").unwrap();
                    peers.push(peer);
                }
                assert_eq!(peers.len(), 2 * (round + 1));
            }
            let mut expected: Vec<_> =
                clients.iter().map(|c| c.local_addr().unwrap()).collect();
            expected.sort();
            peers.sort();
            assert_eq!(peers, expected, "a connection was lost or accepted twice");
        })
        .unwrap();
}
