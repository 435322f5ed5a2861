//! Timers. No file descriptor and no kernel operation per timer: a heap in the
//! reactor, and the earliest deadline as the timeout of the one wait.

use crate::reactor;
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
    timer: Option<u64>,
}

pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            if let Some(id) = this.timer.take() {
                reactor::with(|r| r.cancel_timer(id));
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
        if let Some(id) = self.timer.take() {
            reactor::with(|r| r.cancel_timer(id));
        }
    }
}
// ANCHOR_END: sleep
