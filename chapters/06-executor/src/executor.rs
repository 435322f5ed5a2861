//! The executor: many tasks on one thread, each polled only when its waker is
//! called, with `spawn` available to any code running in a task.

use crate::future::{Future, PollState, ReadyQueue, Waker};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

/// A spawned task: a future with nothing to return, boxed so that tasks of
/// different types fit in one map. Not `Send`: a task stays on its executor.
type Task = Box<dyn Future<Output = ()>>;

thread_local! {
    /// Tasks spawned on this thread and not yet picked up by its executor;
    /// `None` when no executor runs here.
    static SPAWNED: RefCell<Option<Vec<Task>>> = const { RefCell::new(None) };
}

// ANCHOR: spawn
/// Starts `future` as a new task on the executor running this code. Call it
/// from inside a task (or the future given to `block_on`).
///
/// # Panics
/// When no executor runs on this thread: there would be nothing to run the task.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    SPAWNED.with(|spawned| match spawned.borrow_mut().as_mut() {
        Some(spawned) => spawned.push(Box::new(future)),
        None => panic!(
            "spawn() called outside an executor: call it from a task running in \
             Executor::block_on"
        ),
    });
}
// ANCHOR_END: spawn

/// What [`Executor::block_on`] hands back.
#[derive(Debug)]
pub struct Finished<T> {
    pub output: T,
    /// How many times a task (the main future included) was polled.
    pub polls: u64,
    /// How many tasks ran, the main future included.
    pub tasks: u64,
}

/// The id of the future given to `block_on`; spawned tasks count from 1.
const MAIN: usize = 0;

// ANCHOR: executor
/// Runs tasks on the thread that calls [`Executor::block_on`].
#[derive(Debug, Default)]
pub struct Executor {
    ready: Arc<Mutex<ReadyQueue>>,
}

impl Executor {
    pub fn new() -> Self {
        Executor::default()
    }

    /// Runs `main` and every task spawned meanwhile until all are finished;
    /// returns `main`'s output.
    pub fn block_on<F: Future>(&mut self, main: F) -> Finished<F::Output> {
        let _running = Running::enter();
        let thread = thread::current();
        let waker_for =
            |task| Waker::new(thread.clone(), task, Arc::clone(&self.ready));
        let mut main = Some(main);
        let mut output = None;
        let mut tasks: HashMap<usize, Task> = HashMap::new();
        let (mut next_id, mut polls) = (MAIN + 1, 0);
        self.wake(MAIN);
        loop {
            // Tasks spawned by the last poll join the others, ready to run.
            for task in Running::take_spawned() {
                tasks.insert(next_id, task);
                self.wake(next_id);
                next_id += 1;
            }
            if tasks.is_empty()
                && let Some(output) = output.take()
            {
                let tasks = next_id as u64; // ids were handed out densely
                return Finished {
                    output,
                    polls,
                    tasks,
                };
            }
            let Some(id) = self.next_ready() else {
                // Nothing to do until a waker is called. A wake between the
                // check above and here leaves an unpark token: no lost wake-up.
                log::debug!("executor: no task ready, parking");
                thread::park();
                continue;
            };
            let waker = waker_for(id);
            if id == MAIN {
                if let Some(future) = main.as_mut() {
                    polls += 1;
                    if let PollState::Ready(value) = future.poll(&waker) {
                        output = Some(value);
                        main = None; // dropped now, not at the end
                    }
                }
            } else if let Some(mut task) = tasks.remove(&id) {
                // The task is out of the map while it runs, so it may spawn.
                polls += 1;
                log::debug!("executor: polling task {id}");
                match task.poll(&waker) {
                    PollState::Ready(()) => {
                        log::debug!("executor: task {id} finished")
                    }
                    PollState::NotReady => {
                        tasks.insert(id, task);
                    }
                }
            }
            // An id that is no longer in the map (woken after it finished) is
            // simply skipped.
        }
    }

    fn wake(&self, task: usize) {
        self.ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
    }

    fn next_ready(&self) -> Option<usize> {
        self.ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }
}
// ANCHOR_END: executor

/// Runs `future` on a new executor on this thread.
pub fn block_on<F: Future>(future: F) -> Finished<F::Output> {
    Executor::new().block_on(future)
}

/// While it lives, `spawn` on this thread has somewhere to put tasks.
struct Running(Option<Vec<Task>>);

impl Running {
    fn enter() -> Running {
        Running(SPAWNED.with(|s| s.replace(Some(Vec::new()))))
    }

    fn take_spawned() -> Vec<Task> {
        SPAWNED.with(|s| {
            s.borrow_mut()
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Back to what was there (an outer executor's list, or none).
        let previous = self.0.take();
        SPAWNED.with(|s| *s.borrow_mut() = previous);
    }
}
