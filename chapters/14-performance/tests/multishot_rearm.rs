//! When the kernel ends a multishot accept (here: the process ran out of
//! descriptors, so it posts `EMFILE` without `MORE`), `Incoming` reports the
//! error, and the next call submits the accept again: no connection is
//! lost. Alone in its file: it lowers the process's descriptor limit.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch14_performance::executor::runtime_or_skip;
use ch14_performance::net::TcpListener;
use ch14_performance::task::timeout;
use std::time::Duration;

/// The lowest descriptor number not in use: the next one a call would get.
fn lowest_free_fd() -> u64 {
    // SAFETY: dup of stdin gives the lowest free number, closed right away.
    unsafe {
        let fd = libc::dup(0);
        assert!(fd >= 0);
        libc::close(fd);
        fd as u64
    }
}

fn set_fd_limit(soft: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to fill in, then to pass back.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

#[test]
fn a_multishot_accept_that_the_kernel_ends_is_submitted_again() {
    let Some(mut runtime) = runtime_or_skip() else {
        return;
    };
    let mut original = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `original` is a valid rlimit to fill in.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut original) };
    assert_eq!(got, 0);
    runtime
        .block_on(async {
            let listener =
                TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr();
            let mut incoming = listener.incoming();
            // Clients connected while no descriptor is left for the accept.
            let clients: Vec<_> = (0..3)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();
            // No descriptor below the limit is free: the next accept fails.
            set_fd_limit(lowest_free_fd());
            let ended = timeout(Duration::from_secs(10), incoming.next())
                .await
                .unwrap();
            let err = ended.expect_err("accepted with no descriptor left");
            assert!(err.to_string().contains("Too many open files"), "{err}");
            set_fd_limit(original.rlim_cur);
            let mut peers = Vec::new();
            for _ in 0..3 {
                let next = timeout(Duration::from_secs(10), incoming.next()).await;
                peers.push(next.expect("a connection was lost").unwrap().1);
            }
            assert_eq!(incoming.submissions(), 2, "not submitted again");
            let mut expected: Vec<_> =
                clients.iter().map(|c| c.local_addr().unwrap()).collect();
            expected.sort();
            peers.sort();
            assert_eq!(peers, expected);
        })
        .unwrap();
}
