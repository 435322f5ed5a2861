//! Exercise 2: two futures at once.

use crate::future::{Future, PollState};

// ANCHOR: join
/// Polls two futures in turn until both are ready; the output is both outputs.
#[allow(missing_debug_implementations)] // the outputs need not be Debug
pub struct Join<A: Future, B: Future> {
    a: Slot<A>,
    b: Slot<B>,
}

/// One side of a join: still running, or finished with its output kept.
enum Slot<F: Future> {
    Running(F),
    Finished(Option<F::Output>),
}

impl<F: Future> Slot<F> {
    /// Polls the future if it still runs; true once it has finished.
    fn poll(&mut self) -> bool {
        if let Slot::Running(future) = self {
            match future.poll() {
                PollState::Ready(output) => *self = Slot::Finished(Some(output)),
                PollState::NotReady => return false,
            }
        }
        true
    }

    fn take(&mut self) -> F::Output {
        match self {
            Slot::Finished(output) => {
                output.take().expect("Join polled after Ready")
            }
            Slot::Running(_) => {
                unreachable!("take is only called when both finished")
            }
        }
    }
}

pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: Slot::Running(a),
        b: Slot::Running(b),
    }
}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(&mut self) -> PollState<Self::Output> {
        // Poll both every time, even when the first is not ready yet: that is
        // what lets the two wait at the same time.
        let a_done = self.a.poll();
        let b_done = self.b.poll();
        if a_done && b_done {
            PollState::Ready((self.a.take(), self.b.take()))
        } else {
            PollState::NotReady
        }
    }
}
// ANCHOR_END: join
