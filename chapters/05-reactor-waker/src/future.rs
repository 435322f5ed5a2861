//! Our `Future` trait, now with a waker: whoever polls a future hands it a way
//! to say "poll me again", and the future passes it on to whatever it waits for.

use std::thread::{self, Thread};

// ANCHOR: poll-state
/// What a future says when it is polled.
#[derive(Debug, PartialEq, Eq)]
pub enum PollState<T> {
    /// The work is finished and here is its result.
    Ready(T),
    /// The work cannot go on yet; the waker will be called when it can.
    NotReady,
}
// ANCHOR_END: poll-state

// ANCHOR: future-trait
/// A value that will exist later, and the work that produces it.
pub trait Future {
    /// The result the future produces.
    type Output;

    /// Makes as much progress as possible without blocking. Before returning
    /// `NotReady`, the future must have arranged for `waker` (or a clone of it)
    /// to be woken when polling again can make progress.
    fn poll(&mut self, waker: &Waker) -> PollState<Self::Output>;
}
// ANCHOR_END: future-trait

// ANCHOR: waker
/// Wakes the thread that polls a future. Cheap to clone, and can be sent to
/// another thread (the reactor's).
#[derive(Debug, Clone)]
pub struct Waker {
    thread: Thread,
}

impl Waker {
    /// A waker for the calling thread.
    pub fn for_current_thread() -> Self {
        Waker {
            thread: thread::current(),
        }
    }

    /// Makes the thread's next (or current) `thread::park` return.
    pub fn wake(&self) {
        self.thread.unpark();
    }
}
// ANCHOR_END: waker
