//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch01_state_machine::exercises::deadline::with_deadline;
use ch01_state_machine::exercises::join::join;
use ch01_state_machine::exercises::sequence::Sequence;
use ch01_state_machine::future::{Future, PollState};
use ch01_state_machine::http::HttpGet;
use ch01_state_machine::runtime::block_on_spinning;
use delayserver::DelayServer;
use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn sequence_returns_every_body_in_order() {
    let server = DelayServer::start().unwrap();
    let paths = ["/30/one", "/0/two", "/10/three"];
    let bodies = block_on_spinning(Sequence::new(server.addr(), &paths)).output;
    assert_eq!(bodies.unwrap(), ["one", "two", "three"]);
    let none = block_on_spinning(Sequence::new(server.addr(), &[]));
    assert_eq!((none.output.unwrap().len(), none.polls), (0, 1));
}

#[test]
fn sequence_stops_at_the_first_error() {
    let server = DelayServer::start().unwrap();
    let paths = ["/0/one", "/bad", "/0/never-asked"];
    let err = block_on_spinning(Sequence::new(server.addr(), &paths))
        .output
        .unwrap_err();
    assert!(err.to_string().contains("/bad"), "{err}");
}

#[test]
fn sequence_polled_after_ready_says_so_instead_of_starting_over() {
    let server = DelayServer::start().unwrap();
    let mut sequence = Sequence::new(server.addr(), &["/0/once"]);
    let body = loop {
        if let PollState::Ready(body) = sequence.poll() {
            break body;
        }
    };
    assert_eq!(body.unwrap(), ["once"]);
    let again =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sequence.poll()));
    let message = again.unwrap_err();
    let message = message.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(message, "Sequence polled after it returned Ready");
}

/// Wraps a future and records `label` in `log` when it becomes ready.
struct Recorded<F> {
    inner: F,
    label: &'static str,
    log: Rc<RefCell<Vec<&'static str>>>,
}

impl<F: Future> Future for Recorded<F> {
    type Output = F::Output;
    fn poll(&mut self) -> PollState<F::Output> {
        let state = self.inner.poll();
        if let PollState::Ready(_) = state {
            self.log.borrow_mut().push(self.label);
        }
        state
    }
}

#[test]
fn join_runs_both_requests_at_the_same_time() {
    let server = DelayServer::start().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let record = |path, label| Recorded {
        inner: HttpGet::new(server.addr(), path),
        label,
        log: Rc::clone(&log),
    };
    let both = join(record("/300/slow", "slow"), record("/30/fast", "fast"));
    let (slow, fast) = block_on_spinning(both).output;
    assert_eq!(
        (slow.unwrap(), fast.unwrap()),
        ("slow".into(), "fast".into())
    );
    // Run one after the other, the slow one would finish first: it started first.
    assert_eq!(*log.borrow(), ["fast", "slow"]);
}

#[test]
fn deadline_gives_up_on_a_slow_future() {
    let server = DelayServer::start().unwrap();
    let slow = HttpGet::new(server.addr(), "/60000/too-late");
    let err = block_on_spinning(with_deadline(slow, Duration::from_millis(50)))
        .output
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

#[test]
fn deadline_lets_a_quick_future_finish() {
    let server = DelayServer::start().unwrap();
    let quick = HttpGet::new(server.addr(), "/0/in-time");
    let body =
        block_on_spinning(with_deadline(quick, Duration::from_secs(30))).output;
    assert_eq!(body.unwrap(), "in-time");
}
