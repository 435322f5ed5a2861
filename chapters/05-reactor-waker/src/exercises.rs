//! Solutions to the chapter's exercises: two futures that are woken by
//! something other than the reactor.

use crate::future::{Future, PollState, Waker};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

// ANCHOR: sleep
/// Exercise 1: ready once `duration` has passed since the first poll. A helper
/// thread sleeps and then wakes whichever waker the future was last polled with.
#[derive(Debug)]
pub struct Sleep {
    duration: Duration,
    /// Set on the first poll: the deadline and the waker the timer will wake.
    timer: Option<(Instant, Arc<Mutex<Waker>>)>,
}

pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        duration,
        timer: None,
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(&mut self, waker: &Waker) -> PollState<()> {
        match &self.timer {
            None => {
                let deadline = Instant::now() + self.duration;
                let shared = Arc::new(Mutex::new(waker.clone()));
                let for_timer = Arc::clone(&shared);
                thread::spawn(move || {
                    thread::sleep(
                        deadline.saturating_duration_since(Instant::now()),
                    );
                    for_timer
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .wake();
                });
                self.timer = Some((deadline, shared));
                PollState::NotReady
            }
            Some((deadline, shared)) => {
                if Instant::now() >= *deadline {
                    return PollState::Ready(());
                }
                // Polled early (by a join, say): make sure the timer wakes the
                // waker of this poll.
                *shared.lock().unwrap_or_else(PoisonError::into_inner) =
                    waker.clone();
                PollState::NotReady
            }
        }
    }
}
// ANCHOR_END: sleep

// ANCHOR: oneshot
/// Exercise 2: a value sent from another thread (or task), once.
#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    sender_gone: bool,
    waker: Option<Waker>,
}

#[derive(Debug)]
pub struct Sender<T>(Arc<Mutex<Slot<T>>>);

#[derive(Debug)]
pub struct Receiver<T>(Arc<Mutex<Slot<T>>>);

pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        sender_gone: false,
        waker: None,
    }));
    (Sender(Arc::clone(&slot)), Receiver(slot))
}

impl<T> Sender<T> {
    pub fn send(self, value: T) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.value = Some(value);
        // Dropping `self` at the end wakes the receiver.
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            slot.sender_gone = true;
            slot.waker.take()
        };
        // Wake outside the lock: the woken side will want to take it.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    /// `None` if the sender was dropped without sending.
    type Output = Option<T>;

    fn poll(&mut self, waker: &Waker) -> PollState<Option<T>> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = slot.value.take() {
            return PollState::Ready(Some(value));
        }
        if slot.sender_gone {
            return PollState::Ready(None);
        }
        // Stored under the same lock the sender takes: it cannot send between
        // our check and this line without seeing the waker.
        slot.waker = Some(waker.clone());
        PollState::NotReady
    }
}
// ANCHOR_END: oneshot
