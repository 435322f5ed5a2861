//! A single-threaded executor over the io_uring reactor: a run queue of woken
//! tasks, a wait queue (the tasks that are not in it), and one
//! `io_uring_enter` per turn.

use crate::reactor::{self, Reactor, Stats};
use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

type Task = Pin<Box<dyn Future<Output = ()>>>;

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
        Some(spawned) => spawned.push(Box::pin(task)),
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

// ANCHOR: waker
/// Task ids to poll, each at most once, in the order they were woken.
#[derive(Debug, Default)]
struct RunQueue {
    order: VecDeque<u64>,
    queued: HashSet<u64>,
}

/// A task's waker. It may be called from any thread: it queues the task and,
/// if the executor is (about to be) asleep in `io_uring_enter`, writes the
/// eventfd whose read the reactor keeps in flight, which ends the wait.
struct TaskWaker {
    task: u64,
    queue: Arc<Mutex<RunQueue>>,
    sleeping: Arc<AtomicBool>,
    wake_fd: Arc<OwnedFd>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        {
            let mut queue =
                self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if queue.queued.insert(self.task) {
                queue.order.push_back(self.task);
            }
        }
        // Only the first waker to find the executor asleep pays for a write.
        if self.sleeping.swap(false, Ordering::SeqCst) {
            let one: u64 = 1;
            // SAFETY: writes the 8 bytes of `one` to an eventfd we keep open.
            let n = unsafe {
                libc::write(
                    self.wake_fd.as_raw_fd(),
                    (&one as *const u64).cast(),
                    8,
                )
            };
            if n != 8 {
                // EAGAIN means the counter is already non-zero: a wake is
                // pending anyway. Anything else is worth a log line.
                log::debug!("waker: eventfd write: {}", io::Error::last_os_error());
            }
        }
    }
}
// ANCHOR_END: waker

/// Tasks, stored with a generation so that a stale waker (for a task that has
/// finished and whose place was reused) names a task that no longer exists.
#[derive(Default)]
struct Tasks {
    /// Generation, the task (while not running), and its waker, made once.
    slots: Vec<(u32, Option<(Task, Waker)>)>,
    free: Vec<u32>,
    live: usize,
}

impl Tasks {
    fn insert(&mut self, task: Task, waker_for: impl FnOnce(u64) -> Waker) -> u64 {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push((0, None));
                (self.slots.len() - 1) as u32
            }
        };
        let generation = self.slots[index as usize].0;
        let id = (u64::from(generation) << 32) | u64::from(index);
        self.slots[index as usize].1 = Some((task, waker_for(id)));
        self.live += 1;
        id
    }

    fn take(&mut self, id: u64) -> Option<(Task, Waker)> {
        let (generation, index) = ((id >> 32) as u32, id as u32);
        let slot = self.slots.get_mut(index as usize)?;
        if slot.0 != generation {
            return None;
        }
        slot.1.take()
    }

    fn put_back(&mut self, id: u64, task: (Task, Waker)) {
        self.slots[id as u32 as usize].1 = Some(task);
    }

    fn finish(&mut self, id: u64) {
        let index = id as u32;
        let slot = &mut self.slots[index as usize];
        slot.0 = slot.0.wrapping_add(1);
        self.free.push(index);
        self.live -= 1;
    }
}

/// The id of the future given to `block_on`.
const MAIN: u64 = u64::MAX;

// ANCHOR: runtime
/// A single-threaded io_uring runtime.
pub struct Runtime {
    reactor: Rc<RefCell<Reactor>>,
    queue: Arc<Mutex<RunQueue>>,
    sleeping: Arc<AtomicBool>,
}

impl Runtime {
    /// A runtime with a ring of 256 submission entries.
    pub fn new() -> io::Result<Runtime> {
        Runtime::with_entries(256)
    }

    pub fn with_entries(entries: u32) -> io::Result<Runtime> {
        let sleeping = Arc::new(AtomicBool::new(false));
        let reactor = Reactor::new(entries, Arc::clone(&sleeping))?;
        Ok(Runtime {
            reactor: Rc::new(RefCell::new(reactor)),
            queue: Arc::default(),
            sleeping,
        })
    }

    /// The reactor's counters.
    pub fn stats(&self) -> Stats {
        self.reactor.borrow().stats()
    }

    fn waker(&self, task: u64) -> Waker {
        Waker::from(Arc::new(TaskWaker {
            task,
            queue: Arc::clone(&self.queue),
            sleeping: Arc::clone(&self.sleeping),
            wake_fd: self.reactor.borrow().wake_fd(),
        }))
    }

    fn wake(&self, task: u64) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.queued.insert(task) {
            queue.order.push_back(task);
        }
    }

    /// Runs `main` and every task spawned meanwhile until all are finished.
    pub fn block_on<F: Future>(&mut self, main: F) -> io::Result<F::Output> {
        // Declared first, so dropped last: tasks dropped on the way out can
        // still park their operations in the reactor.
        let _reactor = reactor::enter(Rc::clone(&self.reactor));
        let _spawner = Spawner::enter();
        let mut tasks = Tasks::default();
        let mut main = pin!(main);
        let main_waker = self.waker(MAIN);
        let mut output = None;
        self.wake(MAIN);
        loop {
            // Run the tasks that are ready now; their operations only queue
            // entries, nothing reaches the kernel yet. A task woken during
            // this pass (one that wakes itself, say) runs in the next turn,
            // after the reactor's: no task can starve the I/O of the others.
            let ready: Vec<u64> = {
                let mut queue =
                    self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                queue.queued.clear();
                queue.order.drain(..).collect()
            };
            for id in ready {
                if id == MAIN {
                    let mut cx = Context::from_waker(&main_waker);
                    if output.is_none()
                        && let Poll::Ready(value) = main.as_mut().poll(&mut cx)
                    {
                        output = Some(value);
                    }
                } else if let Some((mut task, waker)) = tasks.take(id) {
                    // Each task's waker was made once, when it was spawned.
                    let mut cx = Context::from_waker(&waker);
                    match task.as_mut().poll(&mut cx) {
                        Poll::Ready(()) => tasks.finish(id),
                        Poll::Pending => tasks.put_back(id, (task, waker)),
                    }
                }
                for task in Spawner::take() {
                    let id = tasks.insert(task, |id| self.waker(id));
                    self.wake(id);
                }
            }
            if tasks.live == 0
                && let Some(output) = output.take()
            {
                return Ok(output);
            }
            // Then one turn of the reactor: one `io_uring_enter` submits all
            // of it, and sleeps if no task is ready. The flag is set before the
            // run queue is checked, so a waker on another thread either sees it
            // (and writes the eventfd) or queued its task before the check.
            self.sleeping.store(true, Ordering::SeqCst);
            let block = self
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .order
                .is_empty();
            if !block {
                self.sleeping.store(false, Ordering::SeqCst);
            }
            self.reactor.borrow_mut().turn(block)?;
            self.sleeping.store(false, Ordering::SeqCst);
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
