//! Solutions to the chapter's exercises.

use crate::executor::spawn;
use crate::future::{Future, PollState, Waker};
use std::sync::{Arc, Mutex, PoisonError};

// ANCHOR: spawn-with-handle
/// Exercise 1: spawn a task and get a future of its result.
pub fn spawn_with_handle<T: 'static>(
    future: impl Future<Output = T> + 'static,
) -> Handle<T> {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    spawn(Deliver {
        future,
        slot: Arc::clone(&slot),
    });
    Handle(slot)
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

/// The spawned task: runs the future, then leaves its output in the slot.
struct Deliver<F: Future> {
    future: F,
    slot: Arc<Mutex<Slot<F::Output>>>,
}

impl<F: Future> Future for Deliver<F> {
    type Output = ();
    fn poll(&mut self, waker: &Waker) -> PollState<()> {
        let PollState::Ready(value) = self.future.poll(waker) else {
            return PollState::NotReady;
        };
        let waiting = {
            let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(waker) = waiting {
            waker.wake();
        }
        PollState::Ready(())
    }
}

/// Ready with the task's output once the task has finished.
pub struct Handle<T>(Arc<Mutex<Slot<T>>>);

impl<T> Future for Handle<T> {
    type Output = T;
    fn poll(&mut self, waker: &Waker) -> PollState<T> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.value.take() {
            Some(value) => PollState::Ready(value),
            None => {
                slot.waker = Some(waker.clone());
                PollState::NotReady
            }
        }
    }
}
// ANCHOR_END: spawn-with-handle

// ANCHOR: yield-now
/// Exercise 2: not ready once, having woken itself, so that every other ready
/// task runs before this one goes on.
#[derive(Debug, Default)]
pub struct YieldNow {
    yielded: bool,
}

pub fn yield_now() -> YieldNow {
    YieldNow::default()
}

impl Future for YieldNow {
    type Output = ();
    fn poll(&mut self, waker: &Waker) -> PollState<()> {
        if self.yielded {
            return PollState::Ready(());
        }
        self.yielded = true;
        waker.wake(); // back of the ready queue
        PollState::NotReady
    }
}
// ANCHOR_END: yield-now
