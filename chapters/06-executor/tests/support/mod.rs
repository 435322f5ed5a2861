//! A future over one end of a Unix socket pair: ready when a byte arrives.
//! Its readiness comes from whatever thread writes the other end.

#![allow(dead_code)]

use ch06_executor::future::{Future, PollState, Waker};
use ch06_executor::reactor::reactor;
use mio::Interest;
use mio::net::UnixStream;
use std::io::{ErrorKind, Read};

pub struct ReadByte {
    pub stream: UnixStream,
    pub id: Option<usize>,
}

impl ReadByte {
    pub fn new(stream: UnixStream) -> Self {
        ReadByte { stream, id: None }
    }
}

impl Future for ReadByte {
    type Output = u8;
    fn poll(&mut self, waker: &Waker) -> PollState<u8> {
        match self.id {
            None => {
                let id =
                    reactor().register(&mut self.stream, Interest::READABLE, waker);
                self.id = Some(id.expect("register"));
            }
            Some(id) => reactor().set_waker(id, waker),
        }
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(1) => PollState::Ready(byte[0]),
            Ok(_) => panic!("the writer closed without writing"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => PollState::NotReady,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

impl Drop for ReadByte {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = reactor().deregister(&mut self.stream, id);
        }
    }
}
