//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch07_std_future::executor::block_on;
use ch07_std_future::exercises::{block_on_counting, fetch_in_order};
use ch07_std_future::http::HttpGet;
use delayserver::DelayServer;

#[test]
fn fetch_in_order_as_an_async_fn() {
    let server = DelayServer::start().unwrap();
    let paths = vec!["/20/one".to_string(), "/0/two".into(), "/10/three".into()];
    let bodies = block_on(fetch_in_order(server.addr(), paths)).output;
    assert_eq!(bodies.unwrap(), ["one", "two", "three"]);
}

#[test]
fn a_counting_waker_sees_the_reactor_wake_a_request() {
    let server = DelayServer::start().unwrap();
    let (body, polls, wakes) =
        block_on_counting(HttpGet::new(server.addr(), "/100/counted"));
    assert_eq!(body.unwrap(), "counted");
    assert!(wakes >= 1, "the reactor never woke the request");
    // Every poll after the first followed a wake (or a spurious return of
    // `park`, which is allowed, hence <=).
    assert!(
        wakes + 1 >= polls || polls <= 10,
        "{polls} polls, {wakes} wakes"
    );
}
