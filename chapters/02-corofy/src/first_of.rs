//! Exercise 3: the first of several futures to finish.

use crate::future::{Future, PollState};

// ANCHOR: first-of
/// Polls every future until one is ready; its index and output are the result.
/// The others are dropped unfinished: whatever they were waiting for, nobody
/// will look at it any more.
pub struct FirstOf<F> {
    futures: Vec<F>,
}

pub fn first_of<F: Future>(futures: impl IntoIterator<Item = F>) -> FirstOf<F> {
    FirstOf {
        futures: futures.into_iter().collect(),
    }
}

impl<F: Future> Future for FirstOf<F> {
    type Output = Option<(usize, F::Output)>;

    fn poll(&mut self) -> PollState<Self::Output> {
        if self.futures.is_empty() {
            return PollState::Ready(None); // nothing can ever finish
        }
        for (i, future) in self.futures.iter_mut().enumerate() {
            if let PollState::Ready(output) = future.poll() {
                self.futures.clear();
                return PollState::Ready(Some((i, output)));
            }
        }
        PollState::NotReady
    }
}
// ANCHOR_END: first-of
