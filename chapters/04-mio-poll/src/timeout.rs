//! Exercises: a runtime that gives up after a while.

use crate::future::{Future, PollState};
use crate::runtime::{Finished, Runtime};
use mio::Events;
use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

// ANCHOR: block-on-timeout
impl Runtime {
    /// Like [`Runtime::block_on`], but fails with `ErrorKind::TimedOut` when
    /// the future is not ready within `limit`. The sleep in `mio::Poll::poll`
    /// gets a timeout, so the runtime wakes up at the deadline even if no
    /// socket ever becomes ready.
    pub fn block_on_timeout<F: Future>(
        &mut self,
        mut future: F,
        limit: Duration,
    ) -> io::Result<Finished<F::Output>> {
        let _current = self.make_current()?;
        let deadline = Instant::now() + limit;
        let mut events = Events::with_capacity(64);
        let (mut polls, mut wakeups) = (0, 0);
        loop {
            polls += 1;
            if let PollState::Ready(output) = future.poll() {
                return Ok(Finished {
                    output,
                    polls,
                    wakeups,
                });
            }
            // Sleep until an event or the deadline, whichever comes first.
            // Waking up at the deadline with no event is not a reason to poll.
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let msg = format!("not ready after {limit:?} ({polls} polls)");
                    return Err(io::Error::new(io::ErrorKind::TimedOut, msg));
                }
                match self.poll.poll(&mut events, Some(left)) {
                    Ok(()) if !events.is_empty() => break,
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            wakeups += 1;
        }
    }
}
// ANCHOR_END: block-on-timeout

// ANCHOR: forgetful
/// Exercise 2: a future that says "not ready" without registering anything.
/// Nothing will ever wake the runtime for it.
/// It counts its polls in a cell shared with whoever created it.
#[derive(Debug, Default)]
pub struct Forgetful {
    pub polls: Rc<Cell<u32>>,
}

impl Future for Forgetful {
    type Output = ();
    fn poll(&mut self) -> PollState<()> {
        self.polls.set(self.polls.get() + 1);
        PollState::NotReady
    }
}
// ANCHOR_END: forgetful
