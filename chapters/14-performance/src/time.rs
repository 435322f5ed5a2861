//! `sleep`: a future over the reactor's timers (see `reactor/timers.rs`).

use crate::reactor::{Handle, TimerKey};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

// ANCHOR: sleep
/// Ready once `deadline` has passed; never, if it is `None` (a duration too
/// long for a clock to represent).
#[derive(Debug)]
#[must_use = "a sleep does nothing unless it is polled"]
pub struct Sleep {
    deadline: Option<Instant>,
    /// The reactor its timer is in, and the timer, once polled.
    timer: Option<(Handle, TimerKey)>,
}

/// Ready once `deadline` has passed.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        timer: None,
    }
}

/// Ready once `duration` has passed. A duration past what the clock can
/// represent (`Duration::MAX`, say) saturates: the sleep never ends.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now().checked_add(duration),
        timer: None,
    }
}

impl Sleep {
    /// Forgets the timer, in the reactor that has it.
    fn cancel(&mut self) {
        if let Some((reactor, key)) = self.timer.take() {
            reactor.cancel_timer(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(deadline) = this.deadline else {
            return Poll::Pending; // never: no timer needed
        };
        if Instant::now() >= deadline {
            this.cancel();
            return Poll::Ready(());
        }
        let reactor = Handle::current().unwrap_or_else(|| {
            panic!("a sleep was polled outside Runtime::block_on: no reactor runs its timers")
        });
        // Polled in another runtime than last time: move the timer there.
        if this.timer.as_ref().is_some_and(|(r, _)| !r.is_current()) {
            this.cancel();
        }
        let mut key = this.timer.as_ref().map(|(_, key)| *key);
        reactor.with(|r| r.set_timer(&mut key, deadline, cx.waker()));
        this.timer = key.map(|key| (reactor, key));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
// ANCHOR_END: sleep
