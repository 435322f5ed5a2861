//! The simplest possible way to run a future: poll it until it is ready.

use crate::future::{Future, PollState};

// ANCHOR: spin
/// What [`block_on_spinning`] hands back: the output and how many polls it took.
#[derive(Debug)]
pub struct Spun<T> {
    pub output: T,
    pub polls: u64,
}

/// Polls `future` over and over until it is ready.
///
/// Nothing tells this loop when polling again could make progress, so it asks
/// all the time: one CPU core stays busy for as long as the future waits.
pub fn block_on_spinning<F: Future>(mut future: F) -> Spun<F::Output> {
    let mut polls = 0;
    loop {
        polls += 1;
        if let PollState::Ready(output) = future.poll() {
            return Spun { output, polls };
        }
    }
}
// ANCHOR_END: spin
