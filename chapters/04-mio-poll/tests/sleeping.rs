//! The runtime sleeps instead of spinning: a future is polled once at the
//! start and once per wake-up, and the thread really went to sleep. No
//! wall-clock thresholds: counts only.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch04_mio_poll::cpu::thread_usage;
use ch04_mio_poll::future::{Future, PollState};
use ch04_mio_poll::http::HttpGet;
use ch04_mio_poll::join_all::join_all;
use ch04_mio_poll::requests::fetch;
use ch04_mio_poll::runtime::Runtime;
use delayserver::DelayServer;
use std::io::ErrorKind;
use std::net::TcpListener;

#[test]
fn a_slow_request_is_polled_once_per_wakeup_plus_once() {
    let server = DelayServer::start().unwrap();
    let mut runtime = Runtime::new().unwrap();
    let before = thread_usage();
    let finished = runtime
        .block_on(HttpGet::new(server.addr(), "/300/slow"))
        .unwrap();
    let after = thread_usage();
    assert_eq!(finished.output.unwrap(), "slow");
    assert_eq!(finished.polls, finished.wakeups + 1);
    // Connected, then readable: a handful of readiness events, where chapter 1's
    // loop polled hundreds of thousands of times in 300 ms.
    assert!(finished.polls <= 10, "{} polls", finished.polls);
    // And the thread gave up the CPU to wait at least once.
    assert!(after.sleeps > before.sleeps, "the thread never slept");
}

#[test]
fn joined_futures_are_each_polled_at_most_once_per_wakeup() {
    let server = DelayServer::start().unwrap();
    let mut runtime = Runtime::new().unwrap();
    let paths = ["/200/a", "/100/b", "/0/c"];
    let futures = paths.map(|p| fetch(server.addr(), p.into()));
    let finished = runtime.block_on(join_all(futures)).unwrap();
    assert_eq!(finished.output.finish_order, [2, 1, 0]);
    for polls in finished.output.polls {
        assert!(polls >= 1 && polls <= finished.wakeups + 1);
    }
}

#[test]
fn a_refused_connection_is_reported_by_the_readiness_event() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut runtime = Runtime::new().unwrap();
    let finished = runtime.block_on(HttpGet::new(addr, "/0/x")).unwrap();
    let err = finished.output.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains("is the delay server running"),
        "{err}"
    );
}

#[test]
fn polling_outside_a_runtime_is_an_error_not_a_hang() {
    let server = DelayServer::start().unwrap();
    let mut request = HttpGet::new(server.addr(), "/0/x");
    let PollState::Ready(Err(err)) = request.poll() else {
        panic!("expected an error");
    };
    assert!(
        err.to_string()
            .contains("no runtime is running on this thread"),
        "{err}"
    );
}

#[test]
fn one_runtime_runs_many_futures_in_turn() {
    let server = DelayServer::start().unwrap();
    let mut runtime = Runtime::new().unwrap();
    for i in 0..20 {
        let body =
            runtime.block_on(HttpGet::new(server.addr(), &format!("/0/n{i}")));
        assert_eq!(body.unwrap().output.unwrap(), format!("n{i}"));
    }
}
