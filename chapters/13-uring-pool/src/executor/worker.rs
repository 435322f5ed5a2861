//! The run queue the workers share, the table of live tasks, and the loop
//! each worker thread runs.

use super::raw::{BoxFuture, Ran, RawTask};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

// ANCHOR: scheduler
/// What every worker and every waker shares: the queue of tasks to poll, and
/// the live tasks (so that shutdown can find the ones nobody will wake).
#[derive(Debug, Default)]
pub(crate) struct Scheduler {
    queue: Mutex<Queue>,
    /// Signalled when a task is queued and a worker sleeps, or at close.
    ready: Condvar,
    tasks: Mutex<Live>,
    /// Signalled when the last live task finishes.
    all_done: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    tasks: VecDeque<Arc<RawTask>>,
    /// Workers waiting on `ready`.
    sleeping: usize,
    closed: bool,
}

#[derive(Default)]
struct Live {
    tasks: HashMap<u64, Arc<RawTask>>,
    next_id: u64,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Scheduler {
    /// Queues a task, and wakes a sleeping worker if there is one. The
    /// check of `sleeping` and the push are under the same lock a worker
    /// holds when it decides to sleep, so the wake cannot fall in between.
    /// Once the pool is closed, a wake queues nothing: shutdown drops the
    /// tasks that are left.
    pub fn push(&self, task: Arc<RawTask>) {
        let mut queue = lock(&self.queue);
        if queue.closed {
            return;
        }
        queue.tasks.push_back(task);
        let wake = queue.sleeping > 0;
        drop(queue);
        if wake {
            self.ready.notify_one();
        }
    }

    /// The next task to poll, sleeping until there is one; `None` once the
    /// pool is closed.
    fn next(&self) -> Option<Arc<RawTask>> {
        let mut queue = lock(&self.queue);
        loop {
            if queue.closed {
                return None;
            }
            if let Some(task) = queue.tasks.pop_front() {
                return Some(task);
            }
            queue.sleeping += 1;
            queue = self
                .ready
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
            queue.sleeping -= 1;
        }
    }

    /// Makes a task of `future`, records it as live, and queues it.
    pub fn spawn(self: &Arc<Self>, future: BoxFuture) -> Arc<RawTask> {
        let task = {
            let mut live = lock(&self.tasks);
            let id = live.next_id;
            live.next_id += 1;
            let task = Arc::new(RawTask::new(id, future, Arc::clone(self)));
            live.tasks.insert(id, Arc::clone(&task));
            task
        };
        self.push(Arc::clone(&task));
        task
    }

    fn finished(&self, task: &RawTask) {
        let mut live = lock(&self.tasks);
        live.tasks.remove(&task.id);
        if live.tasks.is_empty() {
            self.all_done.notify_all();
        }
    }

    /// How many tasks are live (spawned and not finished).
    pub fn live(&self) -> usize {
        lock(&self.tasks).tasks.len()
    }

    /// Waits until no task is live, or `deadline`; returns how many are left.
    pub fn wait_until_idle(&self, deadline: Instant) -> usize {
        let mut live = lock(&self.tasks);
        while !live.tasks.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            live = self
                .all_done
                .wait_timeout(live, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        live.tasks.len()
    }

    /// Aborts every live task: each is dropped by the next worker that
    /// takes it from the queue.
    pub fn abort_all(&self) {
        let tasks: Vec<_> = lock(&self.tasks).tasks.values().cloned().collect();
        tasks.iter().for_each(RawTask::abort);
    }

    /// Stops the workers (each finishes the poll it is in).
    pub fn close(&self) {
        lock(&self.queue).closed = true;
        self.ready.notify_all();
    }

    /// After the workers stopped: drops what is left, tasks and queue, here.
    pub fn drop_leftovers(&self) {
        let tasks: Vec<_> =
            lock(&self.tasks).tasks.drain().map(|(_, t)| t).collect();
        lock(&self.queue).tasks.clear();
        tasks.iter().for_each(|task| task.drop_future());
    }
}
// ANCHOR_END: scheduler

thread_local! {
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The number of the worker this code runs on (0, 1, ...), or `None` off
/// the pool's workers.
pub fn current_worker() -> Option<usize> {
    WORKER.with(Cell::get)
}

// ANCHOR: worker
/// A worker's life: take the next task, poll it, repeat, until the pool
/// closes.
pub(crate) fn work(number: usize, scheduler: &Scheduler) {
    WORKER.with(|w| w.set(Some(number)));
    while let Some(task) = scheduler.next() {
        if let Ran::Finished = task.run() {
            scheduler.finished(&task);
        }
    }
    WORKER.with(|w| w.set(None));
}
// ANCHOR_END: worker

/// How long `Pool::drop` waits for a worker stuck in a poll before it lets
/// the thread go on alone.
pub(crate) const WORKER_EXIT_WAIT: Duration = Duration::from_secs(5);
