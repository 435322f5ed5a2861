//! Our `Future` trait with a waker. The waker now names a task: waking it
//! puts that task, and only that task, on its executor's ready queue.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, Thread};

// ANCHOR: poll-state
/// What a future says when it is polled.
#[derive(Debug, PartialEq, Eq)]
pub enum PollState<T> {
    /// The work is finished and here is its result.
    Ready(T),
    /// The work cannot go on yet; the waker will be called when it can.
    NotReady,
}
// ANCHOR_END: poll-state

// ANCHOR: future-trait
/// A value that will exist later, and the work that produces it.
pub trait Future {
    /// The result the future produces.
    type Output;

    /// Makes as much progress as possible without blocking. Before returning
    /// `NotReady`, the future must have arranged for `waker` (or a clone of it)
    /// to be woken when polling again can make progress.
    fn poll(&mut self, waker: &Waker) -> PollState<Self::Output>;
}
// ANCHOR_END: future-trait

// ANCHOR: waker
/// Wakes one task: puts its id on its executor's ready queue and unparks the
/// executor's thread. Cheap to clone, and can be sent to another thread.
#[derive(Debug, Clone)]
pub struct Waker {
    thread: Thread,
    task: usize,
    ready: Arc<Mutex<ReadyQueue>>,
}

impl Waker {
    pub(crate) fn new(
        thread: Thread,
        task: usize,
        ready: Arc<Mutex<ReadyQueue>>,
    ) -> Self {
        Waker {
            thread,
            task,
            ready,
        }
    }

    /// A waker for polling a future by hand on this thread (in a test, say):
    /// waking it unparks this thread and queues task 0 on a queue of its own.
    pub fn for_current_thread() -> Self {
        Waker::new(thread::current(), 0, Arc::default())
    }

    /// Schedules the task to be polled again.
    pub fn wake(&self) {
        self.ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.task);
        self.thread.unpark();
    }
}

/// The ids of the tasks to poll next, in the order they were woken, each at
/// most once however often it was woken.
#[derive(Debug, Default)]
pub struct ReadyQueue {
    order: VecDeque<usize>,
    queued: HashSet<usize>,
}

impl ReadyQueue {
    pub fn push(&mut self, task: usize) {
        if self.queued.insert(task) {
            self.order.push_back(task);
        }
    }

    pub fn pop(&mut self) -> Option<usize> {
        let task = self.order.pop_front()?;
        self.queued.remove(&task);
        Some(task)
    }
}
// ANCHOR_END: waker
