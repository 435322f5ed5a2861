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
    bodies: Vec<String>,
    /// The request in flight, if one has been started.
    current: Option<HttpGet>,
}

impl Sequence {
    pub fn new(addr: SocketAddr, paths: &[&str]) -> Self {
        Sequence {
            addr,
            paths: paths.iter().map(|p| p.to_string()).collect(),
            bodies: Vec::new(),
            current: None,
        }
    }
}

impl Future for Sequence {
    type Output = io::Result<Vec<String>>;

    fn poll(&mut self) -> PollState<Self::Output> {
        loop {
            let next = self.bodies.len();
            if next == self.paths.len() {
                return PollState::Ready(Ok(std::mem::take(&mut self.bodies)));
            }
            let request = self
                .current
                .get_or_insert_with(|| HttpGet::new(self.addr, &self.paths[next]));
            match request.poll() {
                PollState::NotReady => return PollState::NotReady,
                PollState::Ready(Err(e)) => return PollState::Ready(Err(e)),
                PollState::Ready(Ok(body)) => {
                    self.bodies.push(body);
                    self.current = None; // the next turn starts the next request
                }
            }
        }
    }
}
// ANCHOR_END: sequence
