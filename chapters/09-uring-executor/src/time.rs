//! `sleep`: a future over the reactor's timers (see `reactor/timers.rs`).

use crate::reactor::{self, TimerKey};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

// ANCHOR: sleep
/// Ready once `deadline` has passed.
#[derive(Debug)]
#[must_use = "a sleep does nothing unless it is polled"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<TimerKey>,
}

/// Ready once `deadline` has passed.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// Ready once `duration` has passed.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            if let Some(key) = this.timer.take() {
                reactor::with(|r| r.cancel_timer(key));
            }
            return Poll::Ready(());
        }
        let deadline = this.deadline;
        reactor::with(|r| r.set_timer(&mut this.timer, deadline, cx.waker()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.timer.take() {
            reactor::with(|r| r.cancel_timer(key));
        }
    }
}
// ANCHOR_END: sleep
