//! Solutions to the chapter's exercises.

use crate::executor::spawn;
use crate::task::{Either, JoinError, race};
use crate::time::sleep;
use crate::token::CancellationToken;
use std::future::Future;
use std::time::Duration;

// ANCHOR: parallel-map
/// Exercise 1: runs `f` on every item at once, each call a task of its own
/// (so on any worker), and gives the outputs in the order of the items. A
/// panic in one call is that call's `JoinError`, returned once every call
/// has ended; the others are not cut short.
pub async fn parallel_map<T, U, F, Fut>(
    items: Vec<T>,
    f: F,
) -> Result<Vec<U>, JoinError>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = U> + Send + 'static,
    U: Send + 'static,
{
    let handles: Vec<_> = items.into_iter().map(|item| spawn(f(item))).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    let mut first_error = None;
    for handle in handles {
        match handle.await {
            Ok(output) => outputs.push(output),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(outputs),
    }
}
// ANCHOR_END: parallel-map

// ANCHOR: deadline
/// Exercise 2: a child of `parent` that also cancels itself after `limit`:
/// a budget for one subtree of work (one request, one test). The timer is a
/// detached task that ends as soon as the child is cancelled by anyone, so
/// that a deadline never outlives what it bounds.
pub fn child_with_deadline(
    parent: &CancellationToken,
    limit: Duration,
) -> CancellationToken {
    let child = parent.child_token();
    let timer = child.clone();
    drop(spawn(async move {
        if let Either::Right(()) = race(timer.cancelled(), sleep(limit)).await {
            timer.cancel();
        }
    }));
    child
}
// ANCHOR_END: deadline
