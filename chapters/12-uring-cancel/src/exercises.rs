//! Solutions to the chapter's exercises.

use crate::sync::Event;
use crate::task::{Elapsed, timeout};
use std::future::Future;
use std::io;
use std::time::Duration;

// ANCHOR: retry
/// Exercise 1: tries `make()`'s future up to `attempts` times, each under
/// `limit`; the first that finishes in time wins.
pub async fn retry_with_timeout<F, Fut>(
    attempts: u32,
    limit: Duration,
    mut make: F,
) -> Result<Fut::Output, Elapsed>
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    let mut last = Elapsed(limit);
    for _ in 0..attempts {
        match timeout(limit, make()).await {
            Ok(output) => return Ok(output),
            Err(e) => last = e,
        }
    }
    Err(last)
}
// ANCHOR_END: retry

// ANCHOR: wait-for
/// Exercise 2: waits until `event` has been notified at least `n` times in
/// all; one read can carry several notifications.
pub async fn wait_for(event: &Event, n: u64) -> io::Result<u64> {
    let mut seen = 0;
    while seen < n {
        seen += event.wait().await?;
    }
    Ok(seen)
}
// ANCHOR_END: wait-for
