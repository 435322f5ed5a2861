//! join_all really runs its futures at the same time: the order they finish
//! in follows their delays, not the order they were started in, and the poll
//! counts show each one was polled again and again while the others waited.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch02_corofy::future::{Future, PollState};
use ch02_corofy::join_all::{Joined, join_all};
use ch02_corofy::requests::fetch;
use ch02_corofy::runtime::block_on_spinning;
use delayserver::DelayServer;

/// Not ready `n` times, then ready with `n`: a future whose timing is exact.
struct Ticks(u32, u32);

impl Future for Ticks {
    type Output = u32;
    fn poll(&mut self) -> PollState<u32> {
        if self.1 == self.0 {
            return PollState::Ready(self.0);
        }
        self.1 += 1;
        PollState::NotReady
    }
}

fn ticks(n: u32) -> Ticks {
    Ticks(n, 0)
}

#[test]
fn interleaving_is_exact_with_futures_that_need_a_known_number_of_polls() {
    let spun = block_on_spinning(join_all([ticks(3), ticks(1), ticks(2)]));
    assert_eq!(
        spun.output,
        Joined {
            outputs: vec![3, 1, 2],
            finish_order: vec![1, 2, 0],
            polls: vec![4, 2, 3],
        }
    );
    // The join itself was polled as often as its slowest future: they all made
    // progress in the same polls, one after the other.
    assert_eq!(spun.polls, 4);
}

#[test]
fn an_empty_join_is_ready_at_once() {
    let spun = block_on_spinning(join_all(Vec::<Ticks>::new()));
    assert_eq!((spun.output.outputs.len(), spun.polls), (0, 1));
}

#[test]
fn requests_finish_in_the_order_of_their_delays() {
    let server = DelayServer::start().unwrap();
    let paths = ["/300/slow", "/200/medium", "/100/fast"];
    let futures = paths.map(|p| fetch(server.addr(), p.to_string()));
    let joined = block_on_spinning(join_all(futures)).output;
    let outputs: Vec<String> =
        joined.outputs.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        outputs,
        ["slow", "medium", "fast"],
        "outputs keep the input order"
    );
    // Started slow first, but finished fast first: they waited at the same time.
    assert_eq!(joined.finish_order, [2, 1, 0]);
    // Each was polled many times (interleaved with the others), and one that
    // finished earlier was polled fewer times, because a finished future is
    // not polled again.
    let [slow, medium, fast] = joined.polls[..] else {
        panic!()
    };
    assert!(fast > 1, "{:?}", joined.polls);
    assert!(slow > medium && medium > fast, "{:?}", joined.polls);
}

#[test]
fn an_error_in_one_future_does_not_stop_the_others() {
    let server = DelayServer::start().unwrap();
    let paths = ["/50/ok", "/bad-request", "/0/also-ok"];
    let futures = paths.map(|p| fetch(server.addr(), p.to_string()));
    let joined = block_on_spinning(join_all(futures)).output;
    assert_eq!(joined.outputs[0].as_ref().unwrap(), "ok");
    assert!(
        joined.outputs[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("400")
    );
    assert_eq!(joined.outputs[2].as_ref().unwrap(), "also-ok");
}
