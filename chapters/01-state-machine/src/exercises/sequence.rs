//! Exercise 1: any number of requests, one after the other.

use crate::future::{Future, PollState};
use crate::http::HttpGet;
use std::io;
use std::net::SocketAddr;

// ANCHOR: sequence
/// `GET` each path in turn; the output is every body, in order.
#[derive(Debug)]
pub struct Sequence {
    addr: SocketAddr,
    paths: Vec<String>,
    /// The bodies received so far; its length is the index of the next path.
    /// `None` once the output was handed over.
    bodies: Option<Vec<String>>,
    /// The request in flight, if one has been started.
    current: Option<HttpGet>,
}

impl Sequence {
    pub fn new(addr: SocketAddr, paths: &[&str]) -> Self {
        Sequence {
            addr,
            paths: paths.iter().map(|p| p.to_string()).collect(),
            bodies: Some(Vec::new()),
            current: None,
        }
    }
}

impl Future for Sequence {
    type Output = io::Result<Vec<String>>;

    fn poll(&mut self) -> PollState<Self::Output> {
        loop {
            let Some(bodies) = self.bodies.as_mut() else {
                panic!("Sequence polled after it returned Ready");
            };
            let next = bodies.len();
            if next == self.paths.len() {
                return PollState::Ready(Ok(self
                    .bodies
                    .take()
                    .unwrap_or_default()));
            }
            let request = self
                .current
                .get_or_insert_with(|| HttpGet::new(self.addr, &self.paths[next]));
            match request.poll() {
                PollState::NotReady => return PollState::NotReady,
                PollState::Ready(Err(e)) => {
                    self.bodies = None;
                    return PollState::Ready(Err(e));
                }
                PollState::Ready(Ok(body)) => {
                    bodies.push(body);
                    self.current = None; // the next turn starts the next request
                }
            }
        }
    }
}
// ANCHOR_END: sequence
