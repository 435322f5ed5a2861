//! Exercise 3: give up when a deadline passes.

use crate::future::{Future, PollState};
use std::io;
use std::time::{Duration, Instant};

// ANCHOR: deadline
/// Runs `inner` until it is ready or `limit` has passed since the first poll.
#[derive(Debug)]
pub struct Deadline<F> {
    inner: F,
    limit: Duration,
    /// Set on the first poll: a future does nothing until it is polled, so the
    /// clock starts then, not when the future was created.
    deadline: Option<Instant>,
}

pub fn with_deadline<F>(inner: F, limit: Duration) -> Deadline<F> {
    Deadline {
        inner,
        limit,
        deadline: None,
    }
}

impl<T, F: Future<Output = io::Result<T>>> Future for Deadline<F> {
    type Output = io::Result<T>;

    fn poll(&mut self) -> PollState<Self::Output> {
        let deadline = *self
            .deadline
            .get_or_insert_with(|| Instant::now() + self.limit);
        match self.inner.poll() {
            PollState::Ready(output) => PollState::Ready(output),
            PollState::NotReady if Instant::now() >= deadline => {
                let msg = format!("gave up after {:?}", self.limit);
                PollState::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, msg)))
            }
            PollState::NotReady => PollState::NotReady,
        }
    }
}
// ANCHOR_END: deadline
