//! `spawn_blocking`'s threads: a bounded set, started when needed, reused,
//! and let go after a while idle. Calls beyond the bound wait in a queue.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

// ANCHOR: blocking-pool
/// The blocking threads of one pool.
#[derive(Debug)]
pub(crate) struct BlockingPool {
    state: Mutex<State>,
    /// Signalled when a job is queued and a thread is idle, or at shutdown.
    work: Condvar,
    /// Signalled when a thread exits.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    /// Threads started so far (for names, and for tests).
    started: u64,
    shutdown: bool,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("jobs", &self.jobs.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle)
            .finish()
    }
}

impl BlockingPool {
    pub fn new(max_threads: usize, keep_alive: Duration) -> BlockingPool {
        BlockingPool {
            state: Mutex::default(),
            work: Condvar::new(),
            exited: Condvar::new(),
            max_threads: max_threads.max(1),
            keep_alive,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a job: an idle thread takes it, or a new thread is started if
    /// the bound allows, or it waits for a thread to come free.
    fn run(self: &Arc<Self>, job: Job) -> std::io::Result<()> {
        let mut state = self.lock();
        if state.shutdown {
            return Err(std::io::Error::other(
                "spawn_blocking: the pool is shutting down",
            ));
        }
        state.jobs.push_back(job);
        if state.idle > 0 {
            drop(state);
            self.work.notify_one();
            return Ok(());
        }
        if state.threads < self.max_threads {
            state.threads += 1;
            state.started += 1;
            let name = format!("blocking-{}", state.started);
            drop(state);
            let pool = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name(name)
                .spawn(move || pool.serve());
            if let Err(e) = spawned {
                self.lock().threads -= 1;
                // The job stays queued for the threads there are, if any.
                log::error!("spawn_blocking: cannot start a thread: {e}");
            }
        }
        Ok(())
    }

    /// A blocking thread: runs jobs until it has been idle for `keep_alive`
    /// or the pool shuts down.
    fn serve(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job();
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, waited) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            state.idle -= 1;
            if waited.timed_out() && state.jobs.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        drop(state);
        self.exited.notify_all();
    }

    /// Threads started so far.
    pub fn started(&self) -> u64 {
        self.lock().started
    }

    /// Refuses new jobs, lets the queued ones run, and waits up to `limit`
    /// for the threads to exit (a job may block for ever; its thread is then
    /// left to end on its own).
    pub fn shutdown(&self, limit: Duration) {
        let mut state = self.lock();
        state.shutdown = true;
        self.work.notify_all();
        let deadline = std::time::Instant::now() + limit;
        while state.threads > 0 {
            let left =
                deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                log::warn!(
                    "spawn_blocking: {} threads still busy at shutdown",
                    state.threads
                );
                break;
            }
            state = self
                .exited
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
// ANCHOR_END: blocking-pool

// ANCHOR: spawn-blocking
/// Runs `f` on one of the pool's blocking threads and completes with its
/// result; the waiting task's waker is called from that thread, and the
/// task goes on on whichever worker takes it. If `f` panics, the panic is
/// caught on its thread and resumed in the task that awaits the handle, as
/// if `f` had run there.
///
/// # Panics
/// Outside the pool (there are no blocking threads to run `f`).
pub fn spawn_blocking<T, F>(f: F) -> BlockingHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Blocking {
        output: None,
        waiter: None,
    }));
    let for_thread = Arc::clone(&shared);
    let job = Box::new(move || {
        let output = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let waiter = {
            let mut slot =
                for_thread.lock().unwrap_or_else(PoisonError::into_inner);
            slot.output = Some(output);
            slot.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    });
    let queued = crate::executor::with_context(|pool| pool.blocking.run(job));
    if let Err(e) = queued {
        let mut slot = shared.lock().unwrap_or_else(PoisonError::into_inner);
        slot.output = Some(Err(Box::new(e.to_string())));
    }
    BlockingHandle(shared)
}

#[derive(Debug)]
struct Blocking<T> {
    /// What `f` returned, or the payload of its panic.
    output: Option<std::thread::Result<T>>,
    waiter: Option<Waker>,
}

/// The result of a `spawn_blocking` closure, once it has returned.
#[derive(Debug)]
pub struct BlockingHandle<T>(Arc<Mutex<Blocking<T>>>);

impl<T> Future for BlockingHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.output.take() {
            Some(Ok(output)) => Poll::Ready(output),
            Some(Err(panic)) => {
                drop(slot);
                std::panic::resume_unwind(panic)
            }
            None => {
                slot.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: spawn-blocking
