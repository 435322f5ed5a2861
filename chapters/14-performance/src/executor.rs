//! A single-threaded executor over the io_uring reactor: a run queue of woken
//! tasks, a wait queue (the tasks that are not in it), and one
//! `io_uring_enter` per turn. Also here, since they lean on how the executor
//! polls: `yield_now` and `poll_once`.

use crate::reactor::{self, Doorbell, Handle, Reactor, Stats};
use crate::ring::Tuning;
use crate::task::Runnable;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

type Task = Pin<Rc<dyn Runnable>>;

thread_local! {
    static SPAWNED: RefCell<Option<Vec<Task>>> = const { RefCell::new(None) };
}

/// Starts `future` as a task on the runtime running this code, and returns a
/// handle to await its output. Dropping the handle detaches the task: it runs
/// to completion all the same.
///
/// # Panics
/// When no runtime runs on this thread.
pub fn spawn<F>(future: F) -> crate::task::JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (task, handle) = crate::task::joinable(future);
    SPAWNED.with(|spawned| match spawned.borrow_mut().as_mut() {
        Some(spawned) => spawned.push(task),
        None => panic!(
            "spawn() called outside a runtime: call it from a task running in \
             Runtime::block_on"
        ),
    });
    handle
}

/// The reactor's counters so far (inside `block_on`).
pub fn stats() -> Stats {
    reactor::with(|r| r.stats())
}

/// Operations whose futures were dropped and whose completions have not come
/// yet (inside `block_on`).
pub fn parked() -> usize {
    reactor::with(|r| r.parked())
}

/// Buffers of the provided buffer ring that are out of it, held by
/// `RecvBuf`s (inside `block_on`; 0 without a buffer ring).
pub fn buffers_out() -> usize {
    reactor::with(|r| r.bufs().map_or(0, |b| usize::from(b.out())))
}

/// Timers registered and not yet fired or cancelled (inside `block_on`).
pub fn timers() -> usize {
    reactor::with(|r| r.timers())
}

// ANCHOR: waker
/// Task ids to poll, in the order they were woken, and the doorbell: shared
/// with wakers on any thread, hence the mutex. A task is in the queue at most
/// once: its waker's `queued` flag says whether it is.
#[derive(Debug)]
struct Shared {
    queue: Mutex<VecDeque<u64>>,
    doorbell: Arc<Doorbell>,
}

impl Shared {
    fn push(&self, task: u64) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(task);
    }

    /// Moves every queued task into `into` (empty), in order.
    fn take_all(&self, into: &mut VecDeque<u64>) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *queue, into);
    }

    fn is_empty(&self) -> bool {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }
}

/// A task's waker. It may be called from any thread: unless the task is
/// queued already, it queues it and rings the reactor's doorbell, which ends
/// the executor's sleep in `io_uring_enter` if it is asleep there.
struct TaskWaker {
    task: u64,
    /// Set by the wake that queues the task; cleared just before its poll.
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.push(self.task);
        }
        self.shared.doorbell.ring();
    }
}
// ANCHOR_END: waker

/// A spawned task and its waker, made once, when it was spawned.
struct Spawned {
    task: Task,
    wake: Arc<TaskWaker>,
    waker: Waker,
}

impl Spawned {
    /// Polls the task; a wake from here on queues it again.
    fn poll(&self) -> Poll<()> {
        self.wake.queued.store(false, Ordering::Release);
        self.task
            .as_ref()
            .run(&mut Context::from_waker(&self.waker))
    }
}

/// A place in the task table: the generation of whoever holds it, and the
/// task, while it is not being polled.
#[derive(Default)]
struct TaskEntry {
    generation: u32,
    task: Option<Spawned>,
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
    fn insert(&mut self, task: Task, shared: &Arc<Shared>) -> u64 {
        let index = self.free.pop().unwrap_or_else(|| {
            self.entries.push(TaskEntry::default());
            (self.entries.len() - 1) as u32
        });
        let entry = &mut self.entries[index as usize];
        let id = (u64::from(entry.generation) << 32) | u64::from(index);
        let wake = task_waker(id, shared);
        // Queued now, by the caller.
        wake.queued.store(true, Ordering::Relaxed);
        entry.task = Some(Spawned {
            task,
            waker: Waker::from(Arc::clone(&wake)),
            wake,
        });
        self.live += 1;
        id
    }

    fn take(&mut self, id: u64) -> Option<Spawned> {
        let (generation, index) = ((id >> 32) as u32, id as u32);
        let entry = self.entries.get_mut(index as usize)?;
        if entry.generation != generation {
            return None;
        }
        entry.task.take()
    }

    fn put_back(&mut self, id: u64, task: Spawned) {
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

fn task_waker(task: u64, shared: &Arc<Shared>) -> Arc<TaskWaker> {
    Arc::new(TaskWaker {
        task,
        queued: AtomicBool::new(false),
        shared: Arc::clone(shared),
    })
}

/// The id of the future given to `block_on`.
const MAIN: u64 = u64::MAX;

// ANCHOR: runtime
/// A single-threaded io_uring runtime.
pub struct Runtime {
    reactor: Handle,
    shared: Arc<Shared>,
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
        Runtime::with_tuning(entries, &Tuning::default())
    }

    /// A runtime whose ring has `entries` entries and is set up as `tuning`
    /// says (the benchmark measures each switch).
    pub fn with_tuning(entries: u32, tuning: &Tuning) -> io::Result<Runtime> {
        let reactor = Reactor::new(entries, tuning)?;
        let doorbell = reactor.doorbell();
        Ok(Runtime {
            shared: Arc::new(Shared {
                queue: Mutex::default(),
                doorbell: Arc::clone(&doorbell),
            }),
            doorbell,
            reactor: Handle::new(reactor),
        })
    }

    /// The set-up the ring got: the one asked for, unless the kernel refused
    /// some of it (then a warning was logged).
    pub fn tuning(&self) -> Tuning {
        self.reactor.with(|r| r.tuning())
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
        let main_wake = task_waker(MAIN, &self.shared);
        let main_waker = Waker::from(Arc::clone(&main_wake));
        let mut output = None;
        let mut woken = Vec::new();
        let mut batch = VecDeque::new();
        // Tasks spawned in this pass: they run in the next, without a trip
        // through the shared queue's lock.
        let mut spawned = Vec::new();
        main_waker.wake_by_ref();
        loop {
            // Run the tasks that are ready now; their operations only queue
            // entries, nothing reaches the kernel yet. A task woken during
            // this pass (one that wakes itself, say) runs in the next turn,
            // after the reactor's: no task can starve the I/O of the others.
            self.shared.take_all(&mut batch);
            batch.extend(spawned.drain(..));
            for id in batch.drain(..) {
                if id == MAIN {
                    main_wake.queued.store(false, Ordering::Release);
                    let mut cx = Context::from_waker(&main_waker);
                    if output.is_none()
                        && let Poll::Ready(value) = main.as_mut().poll(&mut cx)
                    {
                        output = Some(value);
                    }
                } else if let Some(task) = tasks.take(id) {
                    match task.poll() {
                        Poll::Ready(()) => tasks.finish(id),
                        Poll::Pending => tasks.put_back(id, task),
                    }
                }
                for task in Spawner::take() {
                    spawned.push(tasks.insert(task, &self.shared));
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
            let block = spawned.is_empty() && self.shared.is_empty();
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

/// Polls `future` once, with the current task's waker, and says what it said.
/// (For starting an operation without waiting for it.)
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// For tests: a runtime, or `None` after a loud message when io_uring is not
/// usable here, unless `REQUIRE_IO_URING=1`, which makes that a failure.
pub fn runtime_or_skip() -> Option<Runtime> {
    crate::ring::open_or_skip(8)?;
    Some(Runtime::new().expect("a ring opened a moment ago"))
}
