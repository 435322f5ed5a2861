//! Wakers, the standard library's way: a type that implements
//! `std::task::Wake`, turned into a `std::task::Waker` by `Waker::from`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Wake, Waker};
use std::thread::Thread;

// ANCHOR: task-waker
/// What a waker for one task knows: its executor's thread and ready queue,
/// and the task's id. Chapter 6's `Waker`, minus the `Clone` and `wake` we
/// wrote by hand: `std::task::Waker` provides those around an `Arc` of this.
#[derive(Debug)]
pub struct TaskWaker {
    thread: Thread,
    task: usize,
    ready: Arc<Mutex<ReadyQueue>>,
}

impl TaskWaker {
    pub fn waker(
        thread: Thread,
        task: usize,
        ready: Arc<Mutex<ReadyQueue>>,
    ) -> Waker {
        Waker::from(Arc::new(TaskWaker {
            thread,
            task,
            ready,
        }))
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.task);
        self.thread.unpark();
    }
}
// ANCHOR_END: task-waker

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
