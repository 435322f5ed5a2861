//! A single-threaded executor over the io_uring reactor: a run queue of woken
//! tasks, a wait queue (the tasks that are not in it), and one
//! `io_uring_enter` per turn. Also here, since they lean on how the executor
//! polls: `yield_now` and `poll_once`.

use crate::reactor::{self, Doorbell, Handle, Reactor, Stats};
use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

type Task = Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    static SPAWNED: RefCell<Option<Vec<Task>>> = const { RefCell::new(None) };
}

/// Starts `future` as a task on the runtime running this code.
///
/// # Panics
/// When no runtime runs on this thread.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    SPAWNED.with(|spawned| match spawned.borrow_mut().as_mut() {
        Some(spawned) => spawned.push(Box::pin(future)),
        None => panic!(
            "spawn() called outside a runtime: call it from a task running in \
             Runtime::block_on"
        ),
    });
}

/// The reactor's counters so far (inside `block_on`).
pub fn stats() -> Stats {
    reactor::with(|r| r.stats())
}

// ANCHOR: parked
/// Operations whose futures were dropped and whose completions have not come
/// yet (inside `block_on`).
pub fn parked() -> usize {
    reactor::with(|r| r.parked())
}
// ANCHOR_END: parked

/// Timers registered and not yet fired or cancelled (inside `block_on`).
pub fn timers() -> usize {
    reactor::with(|r| r.timers())
}

// ANCHOR: waker
/// Task ids to poll, each at most once, in the order they were woken. Shared
/// with wakers on any thread, hence the mutex.
#[derive(Debug, Default)]
struct RunQueue {
    order: VecDeque<u64>,
    queued: HashSet<u64>,
}

impl RunQueue {
    /// Queues a task unless it is queued already.
    fn push(queue: &Mutex<RunQueue>, task: u64) {
        let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.queued.insert(task) {
            queue.order.push_back(task);
        }
    }

    /// Takes every queued task, in order.
    fn take_all(queue: &Mutex<RunQueue>) -> Vec<u64> {
        let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.queued.clear();
        queue.order.drain(..).collect()
    }

    fn is_empty(queue: &Mutex<RunQueue>) -> bool {
        queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .order
            .is_empty()
    }
}

/// A task's waker. It may be called from any thread: it queues the task and
/// rings the reactor's doorbell, which ends the executor's sleep in
/// `io_uring_enter` if it is asleep there.
struct TaskWaker {
    task: u64,
    queue: Arc<Mutex<RunQueue>>,
    doorbell: Arc<Doorbell>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        RunQueue::push(&self.queue, self.task);
        self.doorbell.ring();
    }
}
// ANCHOR_END: waker

/// A place in the task table: the generation of whoever holds it, and the
/// task, while it is not being polled.
#[derive(Default)]
struct TaskEntry {
    generation: u32,
    task: Option<Task>,
}

/// Tasks, stored with a generation so that a stale waker (for a task that has
/// finished and whose place was reused) names a task that no longer exists.
/// A task id is the generation in the high half and the index in the low.
#[derive(Default)]
struct Tasks {
    entries: Vec<TaskEntry>,
    free: Vec<u32>,
    live: usize,
}

impl Tasks {
    fn insert(&mut self, future: Task) -> u64 {
        let index = self.free.pop().unwrap_or_else(|| {
            self.entries.push(TaskEntry::default());
            (self.entries.len() - 1) as u32
        });
        let entry = &mut self.entries[index as usize];
        let id = (u64::from(entry.generation) << 32) | u64::from(index);
        entry.task = Some(future);
        self.live += 1;
        id
    }

    fn take(&mut self, id: u64) -> Option<Task> {
        let (generation, index) = ((id >> 32) as u32, id as u32);
        let entry = self.entries.get_mut(index as usize)?;
        if entry.generation != generation {
            return None;
        }
        entry.task.take()
    }

    fn put_back(&mut self, id: u64, task: Task) {
        self.entries[id as u32 as usize].task = Some(task);
    }

    fn finish(&mut self, id: u64) {
        let index = id as u32;
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(index);
        self.live -= 1;
    }
}

/// The id of the future given to `block_on`.
const MAIN: u64 = u64::MAX;

// ANCHOR: runtime
/// A single-threaded io_uring runtime.
pub struct Runtime {
    reactor: Handle,
    queue: Arc<Mutex<RunQueue>>,
    doorbell: Arc<Doorbell>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("reactor", &self.reactor)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime with a ring of 256 submission entries.
    pub fn new() -> io::Result<Runtime> {
        Runtime::with_entries(256)
    }

    /// A runtime whose ring has `entries` submission entries (2 to 32,768).
    pub fn with_entries(entries: u32) -> io::Result<Runtime> {
        let reactor = Reactor::new(entries)?;
        Ok(Runtime {
            doorbell: reactor.doorbell(),
            reactor: Handle::new(reactor),
            queue: Arc::default(),
        })
    }

    /// The reactor's counters.
    pub fn stats(&self) -> Stats {
        self.reactor.with(|r| r.stats())
    }

    /// Operations of this runtime whose futures were dropped and whose
    /// completions have not come yet.
    pub fn parked(&self) -> usize {
        self.reactor.with(|r| r.parked())
    }

    fn waker(&self, task: u64) -> Waker {
        Waker::from(Arc::new(TaskWaker {
            task,
            queue: Arc::clone(&self.queue),
            doorbell: Arc::clone(&self.doorbell),
        }))
    }

    /// Calls the wakers of the operations and timers the reactor finished
    /// (they queue their tasks), with the reactor no longer borrowed.
    fn wake_finished(&self, woken: &mut Vec<Waker>) {
        self.reactor.with(|r| r.take_woken(woken));
        woken.drain(..).for_each(Waker::wake);
    }

    /// Runs `main` and every task spawned meanwhile until all are finished.
    /// Refused (an error) inside another `block_on` on this thread.
    pub fn block_on<F: Future>(&mut self, main: F) -> io::Result<F::Output> {
        let _reactor = self.reactor.enter()?;
        let _spawner = Spawner::enter();
        let mut tasks = Tasks::default();
        let mut main = pin!(main);
        let mut output = None;
        let mut woken = Vec::new();
        RunQueue::push(&self.queue, MAIN);
        loop {
            // Run the tasks that are ready now; their operations only queue
            // entries, nothing reaches the kernel yet. A task woken during
            // this pass (one that wakes itself, say) runs in the next turn,
            // after the reactor's: no task can starve the I/O of the others.
            for id in RunQueue::take_all(&self.queue) {
                let waker = self.waker(id);
                let mut cx = Context::from_waker(&waker);
                if id == MAIN {
                    if output.is_none()
                        && let Poll::Ready(value) = main.as_mut().poll(&mut cx)
                    {
                        output = Some(value);
                    }
                } else if let Some(mut task) = tasks.take(id) {
                    match task.as_mut().poll(&mut cx) {
                        Poll::Ready(()) => tasks.finish(id),
                        Poll::Pending => tasks.put_back(id, task),
                    }
                }
                for task in Spawner::take() {
                    let id = tasks.insert(task);
                    RunQueue::push(&self.queue, id);
                }
            }
            if tasks.live == 0
                && let Some(output) = output.take()
            {
                return Ok(output);
            }
            // Then one turn of the reactor: one `io_uring_enter` submits all
            // of it, and sleeps if no task is ready. The doorbell is armed before
            // the run queue is checked, so a waker on another thread either
            // rings it or queued its task before the check.
            self.wake_finished(&mut woken);
            self.doorbell.going_to_sleep();
            let block = RunQueue::is_empty(&self.queue);
            if !block {
                self.doorbell.awake();
            }
            self.reactor.with(|r| r.turn(block))?;
            self.doorbell.awake();
            self.wake_finished(&mut woken);
        }
    }
}
// ANCHOR_END: runtime

/// Runs `future` on a new runtime.
pub fn block_on<F: Future>(future: F) -> io::Result<F::Output> {
    Runtime::new()?.block_on(future)
}

struct Spawner(Option<Vec<Task>>);

impl Spawner {
    fn enter() -> Spawner {
        Spawner(SPAWNED.with(|s| s.replace(Some(Vec::new()))))
    }

    fn take() -> Vec<Task> {
        SPAWNED.with(|s| {
            s.borrow_mut()
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        })
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        let previous = self.0.take();
        SPAWNED.with(|s| *s.borrow_mut() = previous);
    }
}

/// Lets every other ready task run before this one goes on.
pub async fn yield_now() {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow(false).await
}

// ANCHOR: poll-once
/// Polls `future` once, with the current task's waker, and says what it said.
/// (For starting an operation without waiting for it.)
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}
// ANCHOR_END: poll-once

/// For tests: a runtime, or `None` after a loud message when io_uring is not
/// usable here, unless `REQUIRE_IO_URING=1`, which makes that a failure.
pub fn runtime_or_skip() -> Option<Runtime> {
    crate::ring::open_or_skip(8)?;
    Some(Runtime::new().expect("a ring opened a moment ago"))
}
