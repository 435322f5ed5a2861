//! Multishot accept: one submission accepts many connections; dropped, it
//! is cancelled and loses none of the connections it took (they go to the
//! listener), and no descriptor leaks. Alone in its file (its own process),
//! so that the count of open descriptors is exact.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{parked, runtime_or_skip, yield_now};
use ch14_performance::net::TcpListener;
use ch14_performance::task::timeout;
use ch14_performance::time::sleep;
use std::net::SocketAddr;
use std::time::Duration;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn connect_all(addr: SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    (0..n)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect()
}

fn sorted(mut addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    addrs.sort();
    addrs
}

#[test]
fn one_multishot_accept_takes_many_connections_and_a_dropped_one_loses_none() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let fds_before = open_fds();
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();

            // A hundred clients, one submission.
            let mut incoming = listener.incoming();
            let clients = connect_all(addr, 100);
            let mut peers = Vec::new();
            for _ in 0..100 {
                let next = timeout(Duration::from_secs(10), incoming.next()).await;
                peers.push(next.expect("a connection was lost").unwrap().1);
            }
            assert_eq!(incoming.submissions(), 1, "the accept was submitted again");
            let expected: Vec<_> =
                clients.iter().map(|c| c.local_addr().unwrap()).collect();
            assert_eq!(sorted(peers), sorted(expected));
            drop(clients);

            // Forty more; take ten, let the kernel complete the rest into the
            // multishot's queue, and drop it with them there.
            let clients = connect_all(addr, 40);
            let mut peers = Vec::new();
            for _ in 0..10 {
                peers.push(incoming.next().await.unwrap().1);
            }
            while incoming.queued() < 30 {
                yield_now().await; // the kernel accepts the rest meanwhile
            }
            drop(incoming);
            assert!(
                listener.salvaged() > 0,
                "no connection was queued: the test proves nothing"
            );
            // And ten more that arrive after the drop, for the kernel's queue.
            let late = connect_all(addr, 10);
            for _ in 0..40 {
                let next =
                    timeout(Duration::from_secs(10), listener.accept()).await;
                peers.push(next.expect("a connection was lost").unwrap().1);
            }
            let expected: Vec<_> = clients
                .iter()
                .chain(&late)
                .map(|c| c.local_addr().unwrap())
                .collect();
            assert_eq!(sorted(peers), sorted(expected), "lost or accepted twice");
            while parked() > 0 {
                sleep(Duration::from_millis(1)).await;
            }
        })
        .unwrap();
    assert_eq!(open_fds(), fds_before, "descriptors leaked");
}
