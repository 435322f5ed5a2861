//! The executor: polls a future, and parks the thread until its waker is called.

use crate::future::{Future, PollState, Waker};
use std::thread;

// ANCHOR: block-on
/// What [`block_on`] hands back.
#[derive(Debug)]
pub struct Finished<T> {
    pub output: T,
    /// How many times the future was polled.
    pub polls: u64,
}

/// Runs `future` to completion on this thread.
pub fn block_on<F: Future>(mut future: F) -> Finished<F::Output> {
    let waker = Waker::for_current_thread();
    let mut polls = 0;
    loop {
        polls += 1;
        match future.poll(&waker) {
            PollState::Ready(output) => return Finished { output, polls },
            PollState::NotReady => {
                log::debug!("executor: not ready after poll {polls}, parking");
                // If the waker was called since the poll began, this returns at
                // once: `unpark` leaves a token that the next `park` consumes.
                // So a wake between the poll and the park is never lost. (It
                // may also return for no reason; polling again is harmless.)
                thread::park();
                log::debug!("executor: woken");
            }
        }
    }
}
// ANCHOR_END: block-on
