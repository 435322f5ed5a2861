//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch04_mio_poll::http::HttpGet;
use ch04_mio_poll::runtime::Runtime;
use ch04_mio_poll::timeout::Forgetful;
use delayserver::DelayServer;
use std::io::ErrorKind;
use std::time::Duration;

#[test]
fn a_slow_future_times_out() {
    let server = DelayServer::start().unwrap();
    let mut runtime = Runtime::new().unwrap();
    let slow = HttpGet::new(server.addr(), "/60000/too-late");
    let err = runtime
        .block_on_timeout(slow, Duration::from_millis(100))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

#[test]
fn a_quick_future_finishes_in_time() {
    let server = DelayServer::start().unwrap();
    let mut runtime = Runtime::new().unwrap();
    let quick = HttpGet::new(server.addr(), "/0/in-time");
    let finished = runtime
        .block_on_timeout(quick, Duration::from_secs(30))
        .unwrap();
    assert_eq!(finished.output.unwrap(), "in-time");
}

#[test]
fn a_future_that_registers_nothing_is_never_polled_again() {
    let mut runtime = Runtime::new().unwrap();
    let forgetful = Forgetful::default();
    let polls = forgetful.polls.clone();
    let err = runtime
        .block_on_timeout(forgetful, Duration::from_millis(100))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    // Polled once at the start; no event ever came, so never again. (With
    // `block_on`, which has no timeout, this would sleep forever.)
    assert_eq!(polls.get(), 1);
}
