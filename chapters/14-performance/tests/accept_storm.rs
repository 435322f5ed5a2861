//! 10,000 accepts dropped while clients connect: every connection that a
//! dropped accept took is handed to the next accept (none lost, none given
//! twice), and when the listener goes, the process has exactly the open
//! descriptors it had before (each salvaged socket closed exactly once).
//! Alone in its file (its own process), so that the count is exact.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{poll_once, runtime_or_skip, stats, yield_now};
use ch14_performance::net::TcpListener;
use ch14_performance::task::timeout;
use std::time::Duration;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

const ROUNDS: usize = 10_000;

#[test]
fn accepts_dropped_while_clients_connect_lose_and_leak_nothing() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let fds_before = open_fds();
    let (salvaged, left_for_the_drop) = runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            let mut salvaged = 0;
            for round in 0..ROUNDS {
                let mut accept = Box::pin(listener.accept());
                assert!(poll_once(&mut accept).await.is_pending());
                if round % 2 == 0 {
                    yield_now().await; // submitted before the client connects
                }
                let client = std::net::TcpStream::connect(addr).unwrap();
                for _ in 0..round % 3 {
                    yield_now().await; // sometimes the accept completes first
                }
                drop(accept);
                salvaged += listener.salvaged();
                let next =
                    timeout(Duration::from_secs(10), listener.accept()).await;
                let (stream, peer) =
                    next.expect("the connection was lost").unwrap();
                assert_eq!(peer, client.local_addr().unwrap(), "round {round}");
                drop((stream, client));
            }
            // A connection that a dropped accept took and nobody accepted:
            // the listener's drop closes it. (One at most: the next accept
            // would take it.)
            let mut clients = Vec::new();
            while listener.salvaged() < 1 {
                let mut accept = Box::pin(listener.accept());
                assert!(poll_once(&mut accept).await.is_pending());
                yield_now().await;
                clients.push(std::net::TcpStream::connect(addr).unwrap());
                let before = stats().completions;
                while stats().completions == before {
                    yield_now().await;
                }
                drop(accept);
            }
            let left = listener.salvaged();
            drop(listener);
            drop(clients);
            (salvaged, left)
        })
        .unwrap();
    assert!(
        salvaged > 0,
        "no accept was salvaged: the test proves nothing"
    );
    println!(
        "{salvaged} of {ROUNDS} dropped accepts had a connection; {left_for_the_drop} closed by the drop"
    );
    assert_eq!(
        open_fds(),
        fds_before,
        "descriptors leaked (or closed twice)"
    );
}
