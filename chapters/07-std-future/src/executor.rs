//! The executor of chapter 6 on `std::future::Future`: tasks are pinned in
//! boxes, and each poll gets a `Context` carrying the task's `Waker`.

use crate::waker::{ReadyQueue, TaskWaker};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread;

// ANCHOR: task
/// A spawned task: a future with nothing to return, pinned in a box so that
/// tasks of different types fit in one map, and so that a task never moves
/// once it has been polled (it may be an `async fn` future that borrows from
/// itself). Moving the `Pin<Box<..>>` moves the pointer, not the future. Not
/// `Send`: a task stays on its executor.
type Task = Pin<Box<dyn Future<Output = ()>>>;
// ANCHOR_END: task

thread_local! {
    /// Tasks spawned on this thread and not yet picked up by its executor;
    /// `None` when no executor runs here.
    static SPAWNED: RefCell<Option<Vec<Task>>> = const { RefCell::new(None) };
}

/// Starts `future` as a new task on the executor running this code. Call it
/// from inside a task (or the future given to `block_on`).
///
/// # Panics
/// When no executor runs on this thread: there would be nothing to run the task.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    SPAWNED.with(|spawned| match spawned.borrow_mut().as_mut() {
        Some(spawned) => spawned.push(Box::pin(future)),
        None => panic!(
            "spawn() called outside an executor: call it from a task running in \
             Executor::block_on"
        ),
    });
}

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

/// Runs tasks on the thread that calls [`Executor::block_on`].
#[derive(Debug, Default)]
pub struct Executor {
    ready: Arc<Mutex<ReadyQueue>>,
}

impl Executor {
    pub fn new() -> Self {
        Executor::default()
    }

    // ANCHOR: block-on
    /// Runs `main` and every task spawned meanwhile until all are finished;
    /// returns `main`'s output.
    pub fn block_on<F: Future>(&mut self, main: F) -> Finished<F::Output> {
        let _running = Running::enter();
        let thread = thread::current();
        // `main` is pinned in this stack frame: it cannot move from here on,
        // which is all an `async fn` future needs.
        let mut main = pin!(main);
        let mut output = None;
        let mut tasks: HashMap<usize, Task> = HashMap::new();
        let (mut next_id, mut polls) = (MAIN + 1, 0);
        self.wake(MAIN);
        loop {
            for task in Running::take_spawned() {
                tasks.insert(next_id, task);
                self.wake(next_id);
                next_id += 1;
            }
            if tasks.is_empty()
                && let Some(output) = output.take()
            {
                let tasks = next_id as u64;
                return Finished {
                    output,
                    polls,
                    tasks,
                };
            }
            let Some(id) = self.next_ready() else {
                log::debug!("executor: no task ready, parking");
                thread::park();
                continue;
            };
            let waker =
                TaskWaker::waker(thread.clone(), id, Arc::clone(&self.ready));
            let mut cx = Context::from_waker(&waker);
            if id == MAIN {
                if output.is_none() {
                    polls += 1;
                    if let Poll::Ready(value) = main.as_mut().poll(&mut cx) {
                        output = Some(value);
                    }
                }
            } else if let Some(mut task) = tasks.remove(&id) {
                polls += 1;
                log::debug!("executor: polling task {id}");
                match task.as_mut().poll(&mut cx) {
                    Poll::Ready(()) => log::debug!("executor: task {id} finished"),
                    Poll::Pending => {
                        tasks.insert(id, task);
                    }
                }
            }
        }
    }
    // ANCHOR_END: block-on

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
        let previous = self.0.take();
        SPAWNED.with(|s| *s.borrow_mut() = previous);
    }
}
