//! A future over one end of a Unix socket pair: ready when a byte arrives.
//! Its readiness comes from whatever thread writes the other end.

#![allow(dead_code)]

use ch07_std_future::reactor::reactor;
use mio::Interest;
use mio::net::UnixStream;
use std::future::Future;
use std::io::{ErrorKind, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

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
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        let this = self.get_mut();
        match this.id {
            None => {
                let id = reactor().register(
                    &mut this.stream,
                    Interest::READABLE,
                    cx.waker(),
                );
                this.id = Some(id.expect("register"));
            }
            Some(id) => reactor().set_waker(id, cx.waker()),
        }
        let mut byte = [0u8; 1];
        match this.stream.read(&mut byte) {
            Ok(1) => Poll::Ready(byte[0]),
            Ok(_) => panic!("the writer closed without writing"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Poll::Pending,
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
