//! A task as the workers see it: a future behind a small state machine that
//! makes sure one worker at a time polls it, and that a wake which arrives
//! while it is being polled is not lost.

use super::worker::Scheduler;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

// ANCHOR: states
/// Not queued, not running: waiting for a wake.
const IDLE: u8 = 0;
/// In the run queue (exactly once).
const SCHEDULED: u8 = 1;
/// Being polled by a worker.
const RUNNING: u8 = 2;
/// Being polled, and woken meanwhile: it goes back in the queue after this
/// poll instead of going idle.
const NOTIFIED: u8 = 3;
/// Finished or aborted: wakes are ignored.
const DONE: u8 = 4;

/// A spawned task: its future, and where it stands.
pub(crate) struct RawTask {
    pub id: u64,
    state: AtomicU8,
    aborted: AtomicBool,
    /// The future, until it finishes or is aborted. The lock is only ever
    /// taken by the one worker the state machine lets poll it, and by
    /// shutdown once the workers have stopped, so it never blocks anyone.
    future: Mutex<Option<BoxFuture>>,
    scheduler: Arc<Scheduler>,
}
// ANCHOR_END: states

impl std::fmt::Debug for RawTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTask")
            .field("id", &self.id)
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What a worker's poll of a task came to.
pub(crate) enum Ran {
    /// Still pending, and not woken meanwhile.
    Idle,
    /// Woken while it ran: it is queued again.
    Requeued,
    /// Finished, panicked (the panic is in its join handle) or aborted.
    Finished,
}

impl RawTask {
    pub fn new(id: u64, future: BoxFuture, scheduler: Arc<Scheduler>) -> RawTask {
        RawTask {
            id,
            state: AtomicU8::new(SCHEDULED),
            aborted: AtomicBool::new(false),
            future: Mutex::new(Some(future)),
            scheduler,
        }
    }

    // ANCHOR: schedule
    /// A wake: queue the task if it is idle; if it is running, mark it so
    /// that the worker queues it again once this poll returns. If it is
    /// queued already (or marked), the state is written back unchanged:
    /// a read-modify-write, so that the worker's next one synchronises with
    /// it and the poll that follows sees what the waker did before waking.
    fn schedule(self: &Arc<Self>) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let next = match state {
                IDLE => SCHEDULED,
                RUNNING => NOTIFIED,
                SCHEDULED | NOTIFIED => state,
                _ => return,
            };
            match self.state.compare_exchange_weak(
                state,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(IDLE) => return self.scheduler.push(Arc::clone(self)),
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
    }
    // ANCHOR_END: schedule

    /// Asks for the task to be dropped instead of polled again.
    pub fn abort(self: &Arc<Self>) {
        self.aborted.store(true, Ordering::Release);
        self.schedule();
    }

    // ANCHOR: run
    /// Polls the task once; called by the worker that took it from the
    /// queue. An aborted task is dropped instead, here, on a worker.
    pub fn run(self: &Arc<Self>) -> Ran {
        self.state.swap(RUNNING, Ordering::AcqRel);
        let mut slot = self.future.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(future) = slot.as_mut() else {
            return Ran::Finished;
        };
        if self.aborted.load(Ordering::Acquire) {
            log::debug!("task {}: aborted; dropping it", self.id);
            drop_quietly(slot.take());
            self.state.store(DONE, Ordering::Release);
            return Ran::Finished;
        }
        let waker = Waker::from(Arc::clone(self));
        // The future is a `joinable` wrapper: it catches its own panics.
        if future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            drop_quietly(slot.take());
            self.state.store(DONE, Ordering::Release);
            return Ran::Finished;
        }
        drop(slot);
        // Woken while it ran? Then it goes straight back in the queue.
        match self.state.compare_exchange(
            RUNNING,
            IDLE,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ran::Idle,
            Err(_) => {
                self.state.swap(SCHEDULED, Ordering::AcqRel);
                self.scheduler.push(Arc::clone(self));
                Ran::Requeued
            }
        }
    }
    // ANCHOR_END: run

    /// Drops the future (at shutdown, once no worker can be polling it).
    pub fn drop_future(&self) {
        self.state.store(DONE, Ordering::Release);
        let future = self
            .future
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop_quietly(future);
    }
}

/// Drops a future, catching a panic in its `Drop` so that it ends nothing
/// but itself.
fn drop_quietly(future: Option<BoxFuture>) {
    let drop_it = std::panic::AssertUnwindSafe(move || drop(future));
    if std::panic::catch_unwind(drop_it).is_err() {
        log::error!("task: a future panicked while it was dropped");
    }
}

impl Wake for RawTask {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.schedule();
    }
}
