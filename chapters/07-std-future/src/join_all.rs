//! Running several futures at the same time, on one task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// Polls every unfinished future it holds each time it is polled. Each future
/// is pinned in a box of its own, so it may be `!Unpin` (an `async fn`'s is),
/// and the `JoinAll` itself can be moved freely.
pub struct JoinAll<F: Future> {
    running: Vec<Option<Pin<Box<F>>>>,
    outputs: Vec<Option<F::Output>>,
    finish_order: Vec<usize>,
    polls: Vec<u64>,
}

pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    let running: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let n = running.len();
    JoinAll {
        running,
        outputs: (0..n).map(|_| None).collect(),
        finish_order: Vec::with_capacity(n),
        polls: vec![0; n],
    }
}

// Nothing in a JoinAll is pinned in place: its futures are in boxes.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Joined<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        for (i, slot) in this.running.iter_mut().enumerate() {
            let Some(future) = slot else { continue };
            this.polls[i] += 1;
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                this.outputs[i] = Some(output);
                this.finish_order.push(i);
                *slot = None;
            }
        }
        if this.finish_order.len() < this.running.len() {
            return Poll::Pending;
        }
        let outputs = this.outputs.iter_mut().map(|o| o.take());
        Poll::Ready(Joined {
            outputs: outputs.map(|o| o.expect("every future finished")).collect(),
            finish_order: std::mem::take(&mut this.finish_order),
            polls: std::mem::take(&mut this.polls),
        })
    }
}
// ANCHOR_END: join-all
