//! The executor sleeps until woken: a slow request takes a handful of polls,
//! and joined requests still finish in the order of their delays.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch05_reactor_waker::cpu::thread_usage;
use ch05_reactor_waker::http::HttpGet;
use ch05_reactor_waker::join_all::join_all;
use ch05_reactor_waker::requests::fetch;
use ch05_reactor_waker::runtime::block_on;
use delayserver::DelayServer;

#[test]
fn a_slow_request_takes_a_handful_of_polls_and_the_thread_sleeps() {
    let server = DelayServer::start().unwrap();
    let before = thread_usage();
    let finished = block_on(HttpGet::new(server.addr(), "/300/slow"));
    let after = thread_usage();
    assert_eq!(finished.output.unwrap(), "slow");
    assert!(finished.polls <= 10, "{} polls", finished.polls);
    assert!(after.sleeps > before.sleeps, "the thread never slept");
}

#[test]
fn joined_requests_finish_in_the_order_of_their_delays() {
    let server = DelayServer::start().unwrap();
    let paths = ["/300/slow", "/200/medium", "/100/fast"];
    let finished =
        block_on(join_all(paths.map(|p| fetch(server.addr(), p.into()))));
    assert_eq!(finished.output.finish_order, [2, 1, 0]);
    assert!(finished.polls <= 20, "{} polls", finished.polls);
}
