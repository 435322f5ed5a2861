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
    // A 100 ms request cannot be ready on its first poll: it was polled again
    // only because something woke it, and not hundreds of times (no spinning).
    assert!((2..=10).contains(&polls), "{polls} polls, {wakes} wakes");
}

#[test]
fn join2_runs_two_unpin_less_futures_at_once_without_a_box() {
    use ch07_std_future::exercises::join2;
    use std::cell::RefCell;
    let server = DelayServer::start().unwrap();
    let finished = RefCell::new(Vec::new());
    // Two `async` blocks: `!Unpin` futures, stored inside the `Join2`.
    let slow = async {
        let body = HttpGet::new(server.addr(), "/150/slow").await;
        finished.borrow_mut().push("slow");
        body
    };
    let fast = async {
        let body = HttpGet::new(server.addr(), "/0/fast").await;
        finished.borrow_mut().push("fast");
        body
    };
    let (a, b) = block_on(join2(slow, fast)).output;
    assert_eq!((a.unwrap(), b.unwrap()), ("slow".into(), "fast".into()));
    // The second finished first: both were in flight at once.
    assert_eq!(*finished.borrow(), ["fast", "slow"]);
}
