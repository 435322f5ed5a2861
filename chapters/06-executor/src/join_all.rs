//! Running several futures at the same time, on one thread.

use crate::future::{Future, PollState, Waker};

// ANCHOR: join-all
/// What [`join_all`] produces once every future is done.
#[derive(Debug, PartialEq, Eq)]
pub struct Joined<T> {
    /// The outputs, in the order the futures were given.
    pub outputs: Vec<T>,
    /// The futures' indices, in the order they finished.
    pub finish_order: Vec<usize>,
    /// How many times each future was polled.
    pub polls: Vec<u64>,
}

/// A future that polls every future it holds, each time it is polled, until
/// all of them are ready.
pub struct JoinAll<F: Future> {
    running: Vec<Option<F>>,
    outputs: Vec<Option<F::Output>>,
    finish_order: Vec<usize>,
    polls: Vec<u64>,
}

pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    let running: Vec<Option<F>> = futures.into_iter().map(Some).collect();
    let n = running.len();
    JoinAll {
        running,
        outputs: (0..n).map(|_| None).collect(),
        finish_order: Vec::with_capacity(n),
        polls: vec![0; n],
    }
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Joined<F::Output>;

    fn poll(&mut self, waker: &Waker) -> PollState<Self::Output> {
        for (i, slot) in self.running.iter_mut().enumerate() {
            // A finished future is never polled again.
            let Some(future) = slot else { continue };
            self.polls[i] += 1;
            // Every future gets the same waker: any of their events wakes the
            // join, which polls those that are not finished.
            if let PollState::Ready(output) = future.poll(waker) {
                self.outputs[i] = Some(output);
                self.finish_order.push(i);
                *slot = None;
            }
        }
        if self.finish_order.len() < self.running.len() {
            return PollState::NotReady;
        }
        let outputs = self.outputs.iter_mut().map(|o| o.take());
        PollState::Ready(Joined {
            outputs: outputs.map(|o| o.expect("every future finished")).collect(),
            finish_order: std::mem::take(&mut self.finish_order),
            polls: std::mem::take(&mut self.polls),
        })
    }
}
// ANCHOR_END: join-all
