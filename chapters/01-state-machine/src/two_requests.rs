//! The program's task as one state machine: two requests, one after the other.
//!
//! Written by hand here; chapter 2 generates this kind of code from a
//! `coroutine fn` with two `.wait` points.

use crate::future::{Future, PollState};
use crate::http::HttpGet;
use std::io;
use std::mem;
use std::net::SocketAddr;

// ANCHOR: as-a-function
// TwoRequests, as it would read if a function could stop at `.wait` and be
// resumed there later (chapter 2's corofy accepts exactly this):
//
// coroutine fn two_requests(addr: SocketAddr, first: String, second: String)
//     -> io::Result<[String; 2]>
// {
//     let first = HttpGet::new(addr, &first).wait?;   // WaitingFirst
//     let second = HttpGet::new(addr, &second).wait?; // WaitingSecond
//     Ok([first, second])
// }
// ANCHOR_END: as-a-function

// ANCHOR: two-requests
/// First `GET first`, and when its answer is in, `GET second`.
#[derive(Debug)]
pub struct TwoRequests {
    addr: SocketAddr,
    paths: [String; 2],
    state: TwoState,
}

#[derive(Debug)]
enum TwoState {
    /// Not polled yet.
    Start,
    /// Waiting for the first response.
    WaitingFirst(HttpGet),
    /// The first response is in; waiting for the second. The first body is
    /// kept in the state because it is part of the final output.
    WaitingSecond { first: String, second: HttpGet },
    /// Finished.
    Resolved,
}

impl TwoRequests {
    pub fn new(addr: SocketAddr, first: &str, second: &str) -> Self {
        TwoRequests {
            addr,
            paths: [first.to_string(), second.to_string()],
            state: TwoState::Start,
        }
    }
}
// ANCHOR_END: two-requests

// ANCHOR: two-requests-poll
impl Future for TwoRequests {
    /// Both response bodies, in the order the requests were made.
    type Output = io::Result<[String; 2]>;

    fn poll(&mut self) -> PollState<Self::Output> {
        loop {
            self.state = match mem::replace(&mut self.state, TwoState::Resolved) {
                TwoState::Start => {
                    log::debug!("TwoRequests: Start -> WaitingFirst");
                    TwoState::WaitingFirst(HttpGet::new(self.addr, &self.paths[0]))
                }
                TwoState::WaitingFirst(mut first) => match first.poll() {
                    PollState::NotReady => {
                        self.state = TwoState::WaitingFirst(first);
                        return PollState::NotReady;
                    }
                    PollState::Ready(Err(e)) => return PollState::Ready(Err(e)),
                    PollState::Ready(Ok(body)) => {
                        log::debug!("TwoRequests: WaitingFirst -> WaitingSecond");
                        TwoState::WaitingSecond {
                            first: body,
                            second: HttpGet::new(self.addr, &self.paths[1]),
                        }
                    }
                },
                TwoState::WaitingSecond { first, mut second } => {
                    match second.poll() {
                        PollState::NotReady => {
                            self.state = TwoState::WaitingSecond { first, second };
                            return PollState::NotReady;
                        }
                        PollState::Ready(result) => {
                            log::debug!("TwoRequests: WaitingSecond -> Resolved");
                            return PollState::Ready(
                                result.map(|second| [first, second]),
                            );
                        }
                    }
                }
                TwoState::Resolved => {
                    panic!("TwoRequests polled after it returned Ready")
                }
            };
        }
    }
}
// ANCHOR_END: two-requests-poll
