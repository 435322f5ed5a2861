//! An accept whose future was dropped, and which then accepted a connection,
//! closes that connection's socket when its completion arrives. Alone in its
//! file (its own process), so that the count of open descriptors is exact.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::{parked, poll_once, runtime_or_skip, yield_now};
use ch14_performance::net::TcpListener;

#[test]
fn a_dropped_accept_that_completes_closes_its_socket() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let fds_before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            let mut accept = Box::pin(listener.accept());
            let _ = poll_once(&mut accept).await;
            yield_now().await; // submitted
            drop(accept); // parked, with no one to take the connection
            let client = std::net::TcpStream::connect(addr).unwrap();
            while parked() > 0 {
                yield_now().await;
            }
            drop(client);
        })
        .unwrap();
    let fds_after = std::fs::read_dir("/proc/self/fd").unwrap().count();
    assert!(
        fds_after <= fds_before,
        "{fds_before} -> {fds_after}: the accepted socket leaked"
    );
}
