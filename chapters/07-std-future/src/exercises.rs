//! Solutions to the chapter's exercises.

use crate::http::HttpGet;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
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

// ANCHOR: join2
/// Exercise 3: two futures at once, kept inside this future: no box. Either
/// may be `!Unpin` (an `async fn`'s is). The outputs wait here until both are
/// done.
pub struct Join2<A: Future, B: Future> {
    first: A,
    second: B,
    first_output: Option<A::Output>,
    second_output: Option<B::Output>,
}

pub fn join2<A: Future, B: Future>(first: A, second: B) -> Join2<A, B> {
    Join2 {
        first,
        second,
        first_output: None,
        second_output: None,
    }
}

impl<A: Future, B: Future> Future for Join2<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: pin projection. The two futures are pinned whenever the
        // `Join2` is ("structural" pinning): they are only reached through
        // the `Pin`s made here, never moved out or swapped, and dropped in
        // place with the `Join2`, which has no `Drop` of its own that could
        // move them. `Join2` is `Unpin` only if both are (the compiler
        // derives that from its fields). The outputs are not pinned: they
        // are plain values, moved out below.
        let this = unsafe { self.get_unchecked_mut() };
        if this.first_output.is_none() {
            // SAFETY: as above: `first` is pinned because `self` is.
            let first = unsafe { Pin::new_unchecked(&mut this.first) };
            if let Poll::Ready(output) = first.poll(cx) {
                this.first_output = Some(output);
            }
        }
        if this.second_output.is_none() {
            // SAFETY: as above, for `second`.
            let second = unsafe { Pin::new_unchecked(&mut this.second) };
            if let Poll::Ready(output) = second.poll(cx) {
                this.second_output = Some(output);
            }
        }
        match (this.first_output.take(), this.second_output.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (this.first_output, this.second_output) = (a, b);
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: join2
