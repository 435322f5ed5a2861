//! Solutions to the chapter's exercises.

use crate::http::HttpGet;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

// ANCHOR: fetch-in-order
/// Exercise 1: chapter 2's `fetch_in_order`, as an `async fn`. No annotations:
/// the compiler knows every type, so nothing needs to be spelled out.
pub async fn fetch_in_order(
    addr: SocketAddr,
    paths: Vec<String>,
) -> io::Result<Vec<String>> {
    let mut bodies = Vec::with_capacity(paths.len());
    for path in paths {
        bodies.push(HttpGet::new(addr, &path).await?);
    }
    Ok(bodies)
}
// ANCHOR_END: fetch-in-order

// ANCHOR: counting-waker
/// Exercise 2: a waker made with `Wake` that counts how often it is woken.
#[derive(Debug)]
pub struct CountingWaker {
    thread: Thread,
    wakes: AtomicU64,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.thread.unpark();
    }
}

/// Runs `future` on this thread with a counting waker; returns its output,
/// how many times it was polled and how many times it was woken.
pub fn block_on_counting<F: Future>(future: F) -> (F::Output, u64, u64) {
    let counter = Arc::new(CountingWaker {
        thread: thread::current(),
        wakes: AtomicU64::new(0),
    });
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (output, polls, counter.wakes.load(Ordering::Relaxed));
        }
        thread::park();
    }
}
// ANCHOR_END: counting-waker
