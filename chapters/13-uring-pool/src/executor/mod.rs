//! The pool: N worker threads that poll tasks from one run queue, the ring
//! thread that alone talks to the kernel, and a bounded set of blocking
//! threads. `block_on` runs a program's main future on the calling thread.
//!
//! - `raw`: a task's state machine (idle, scheduled, running, notified);
//! - `worker`: the run queue, the table of live tasks, the worker loop.

mod raw;
mod worker;

pub(crate) use raw::RawTask;
pub use worker::current_worker;

use crate::blocking::BlockingPool;
use crate::reactor::{self, Handle, ReactorGuard, RingConfig, Stats};
use crate::task::JoinHandle;
use crate::token::CancellationToken;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle as Thread, Thread as ThreadId};
use std::time::{Duration, Instant};
use worker::Scheduler;

/// What the pool's threads (and `block_on`'s) share.
#[derive(Debug)]
pub(crate) struct PoolContext {
    scheduler: Arc<Scheduler>,
    reactor: Handle,
    pub(crate) shutdown: CancellationToken,
    pub(crate) blocking: Arc<BlockingPool>,
}

thread_local! {
    static CONTEXT: RefCell<Option<Arc<PoolContext>>> = const { RefCell::new(None) };
}

/// Runs `f` with the pool this thread belongs to.
///
/// # Panics
/// Outside the pool.
pub(crate) fn with_context<R>(f: impl FnOnce(&PoolContext) -> R) -> R {
    CONTEXT.with(|c| match c.borrow().as_deref() {
        Some(context) => f(context),
        None => panic!(
            "called outside the pool: spawn, spawn_blocking and \
             shutdown_token work in a task, or inside Pool::block_on"
        ),
    })
}

/// Makes `context` this thread's until the guard is dropped.
fn enter(context: &Arc<PoolContext>) -> impl Drop + use<> {
    struct Guard(Option<Arc<PoolContext>>, #[allow(dead_code)] ReactorGuard);
    impl Drop for Guard {
        fn drop(&mut self) {
            let previous = self.0.take();
            CONTEXT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let reactor = context.reactor.enter();
    Guard(
        CONTEXT.with(|c| c.replace(Some(Arc::clone(context)))),
        reactor,
    )
}

// ANCHOR: spawn
/// Starts `future` as a task on the pool running this code, and returns a
/// handle to await its output. Any worker may poll it, and a different one
/// after each wake, so the future and its output must be `Send`; it may
/// outlive the caller, so it must be `'static`. Dropping the handle detaches
/// the task: it runs to completion all the same.
///
/// # Panics
/// Outside the pool.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    with_context(|pool| spawn_on(&pool.scheduler, future))
}

fn spawn_on<F>(scheduler: &Arc<Scheduler>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, handle) = crate::task::joinable(future);
    let raw = scheduler.spawn(Box::pin(task));
    handle.attach(raw)
}
// ANCHOR_END: spawn

/// The reactor's counters so far (in the pool).
pub fn stats() -> Stats {
    reactor::with(|r| r.stats())
}

/// Operations whose futures were dropped and whose completions have not come
/// yet (in the pool).
pub fn parked() -> usize {
    reactor::with(|r| r.parked())
}

/// [`parked`] and the reactor's counters, read at one instant. The ring
/// thread may free a parked operation at any moment, so `parked()` and
/// `stats().parked_completions` read one after the other can count it twice
/// or not at all.
pub fn parked_and_stats() -> (usize, Stats) {
    reactor::with(|r| (r.parked(), r.stats()))
}

/// Timers registered and not yet fired or cancelled (in the pool).
pub fn timers() -> usize {
    reactor::with(|r| r.timers())
}

/// The default bound on operations in flight.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 65_536;

// ANCHOR: builder
/// How to build a [`Pool`].
#[derive(Debug, Clone)]
pub struct Builder {
    workers: usize,
    entries: u32,
    max_in_flight: Option<usize>,
    blocking_threads: usize,
    grace: Duration,
    signals: bool,
    plain_ring: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            entries: 256,
            max_in_flight: None,
            blocking_threads: 16,
            grace: Duration::from_secs(10),
            signals: false,
            plain_ring: false,
        }
    }
}

impl Builder {
    /// Worker threads (default: the machine's available parallelism).
    pub fn workers(mut self, workers: usize) -> Builder {
        self.workers = workers;
        self
    }

    /// Submission queue entries of the ring (2 to 32,768; default 256).
    pub fn entries(mut self, entries: u32) -> Builder {
        self.entries = entries;
        self
    }

    /// The most operations in flight at once (default 65,536; more wait for
    /// room). Completions beyond the completion queue wait in the kernel,
    /// so the bound is not about the ring's size but about memory: what a
    /// program lets the kernel hold for it. See the page for the trap a
    /// bound sets: operations in flight that wait on one that waits for room.
    pub fn max_in_flight(mut self, limit: usize) -> Builder {
        self.max_in_flight = Some(limit);
        self
    }

    /// The most `spawn_blocking` threads at once (default 16).
    pub fn blocking_threads(mut self, threads: usize) -> Builder {
        self.blocking_threads = threads;
        self
    }

    /// How long `block_on`, once its main future is done, waits for the
    /// tasks still running before it aborts them (default 10 s).
    pub fn grace(mut self, grace: Duration) -> Builder {
        self.grace = grace;
        self
    }

    /// Blocks SIGINT and SIGTERM in this thread and in all the pool's, and
    /// reads them on the ring: the first cancels [`shutdown_token`], the
    /// second exits the process. Build the pool before starting any other
    /// thread, which would not have them blocked.
    ///
    /// [`shutdown_token`]: crate::shutdown::shutdown_token
    pub fn shutdown_on_signals(mut self) -> Builder {
        self.signals = true;
        self
    }

    /// Opens the ring without `SINGLE_ISSUER` and `COOP_TASKRUN`, to measure
    /// what they are worth.
    pub fn plain_ring(mut self) -> Builder {
        self.plain_ring = true;
        self
    }

    /// Starts the ring thread, the workers, and (lazily) blocking threads.
    pub fn build(self) -> io::Result<Pool> {
        if self.workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a pool needs at least one worker thread",
            ));
        }
        let shutdown = CancellationToken::new();
        let signals = match self.signals {
            true => Some((
                crate::shutdown::signalfd()?,
                crate::shutdown::on_signal(shutdown.clone()),
            )),
            false => None,
        };
        let limit = self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
        let (reactor, ring, ring_tid) = reactor::start_ring(RingConfig {
            entries: self.entries,
            limit,
            plain: self.plain_ring,
            signals,
        })?;
        let context = Arc::new(PoolContext {
            scheduler: Arc::default(),
            reactor,
            shutdown,
            blocking: Arc::new(BlockingPool::new(
                self.blocking_threads,
                Duration::from_secs(10),
            )),
        });
        let mut pool = Pool {
            context,
            workers: Vec::new(),
            ring: Some(ring),
            ring_tid,
            grace: self.grace,
        };
        for number in 0..self.workers {
            let context = Arc::clone(&pool.context);
            let worker = std::thread::Builder::new()
                .name(format!("worker-{number}"))
                .spawn(move || {
                    let _context = enter(&context);
                    worker::work(number, &context.scheduler);
                })?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }
}
// ANCHOR_END: builder

// ANCHOR: pool
/// A pool of worker threads over one io_uring ring and its thread.
#[derive(Debug)]
pub struct Pool {
    context: Arc<PoolContext>,
    workers: Vec<Thread<()>>,
    ring: Option<Thread<()>>,
    /// The ring thread's id in the kernel (for tests that signal it).
    ring_tid: libc::pid_t,
    grace: Duration,
}

impl Pool {
    /// A pool with the default [`Builder`].
    pub fn new() -> io::Result<Pool> {
        Pool::builder().build()
    }

    /// A pool with the default [`Builder`] and a ring of `entries`.
    pub fn with_entries(entries: u32) -> io::Result<Pool> {
        Pool::builder().entries(entries).build()
    }

    /// A builder, to choose the pool's sizes.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Starts `future` as a task on this pool (see [`spawn`]).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.context.scheduler, future)
    }

    /// The reactor's counters.
    pub fn stats(&self) -> Stats {
        self.context.reactor.with(|r| r.stats())
    }

    /// Operations of this pool whose futures were dropped and whose
    /// completions have not come yet.
    pub fn parked(&self) -> usize {
        self.context.reactor.with(|r| r.parked())
    }

    /// [`Pool::parked`] and [`Pool::stats`] at one instant (see
    /// [`parked_and_stats`]).
    pub fn parked_and_stats(&self) -> (usize, Stats) {
        self.context.reactor.with(|r| (r.parked(), r.stats()))
    }

    /// The ring thread, as the kernel and pthreads know it: its thread id
    /// (for `/proc/self/task/TID`) and its `pthread_t` (for `pthread_kill`).
    pub fn ring_thread(&self) -> (libc::pid_t, libc::pthread_t) {
        use std::os::unix::thread::JoinHandleExt;
        let pthread = self.ring.as_ref().map_or(0, |ring| ring.as_pthread_t());
        (self.ring_tid, pthread)
    }

    /// Tasks spawned and not finished.
    pub fn live_tasks(&self) -> usize {
        self.context.scheduler.live()
    }

    /// Blocking threads started so far.
    pub fn blocking_threads_started(&self) -> u64 {
        self.context.blocking.started()
    }

    /// The token the pool cancels on SIGINT or SIGTERM (if built with
    /// `shutdown_on_signals`); cancel it to shut down by other means.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.context.shutdown.clone()
    }

    /// Runs `main` on this thread, with the pool's tasks on its workers,
    /// until `main` is done; then waits for the tasks still running (a
    /// detached task is never cancelled while it is given time), at most for
    /// the grace period, and aborts those that are left. Refused (an error)
    /// on a thread that already belongs to a pool: a worker blocked here
    /// would stop polling its tasks.
    pub fn block_on<F: Future>(&self, main: F) -> io::Result<F::Output> {
        if CONTEXT.with(|c| c.borrow().is_some()) {
            return Err(io::Error::other(
                "block_on called from a pool's thread: it would block a \
                 thread the pool needs. Spawn the future and await its \
                 JoinHandle instead, or call block_on from another thread.",
            ));
        }
        let output = {
            let _context = enter(&self.context);
            run_here(main)
        };
        let deadline = Instant::now() + self.grace;
        let left = self.context.scheduler.wait_until_idle(deadline);
        if left > 0 {
            log::warn!(
                "pool: {left} tasks still running after the {:?} grace period; \
                 aborting them",
                self.grace
            );
            self.context.scheduler.abort_all();
            self.context
                .scheduler
                .wait_until_idle(Instant::now() + Duration::from_secs(1));
        }
        Ok(output)
    }
}
// ANCHOR_END: pool

// ANCHOR: run-here
/// Wakes the thread inside `block_on`: sets a flag and unparks it. The flag
/// is what the thread checks; `unpark` before `park` makes `park` return at
/// once, so a wake that comes before the thread sleeps is not lost.
struct ThreadWaker {
    thread: ThreadId,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Polls `future` on this thread until it is ready, parking in between.
fn run_here<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let signal = Arc::new(ThreadWaker {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        while !signal.woken.swap(false, Ordering::AcqRel) {
            std::thread::park();
        }
    }
}
// ANCHOR_END: run-here

impl Drop for Pool {
    /// Stops the workers, drops the tasks left (on this thread, with the
    /// pool entered, so their operations park in its reactor), lets the
    /// blocking threads finish, and lets the ring thread drain the ring.
    fn drop(&mut self) {
        let scheduler = &self.context.scheduler;
        scheduler.close();
        let deadline = Instant::now() + worker::WORKER_EXIT_WAIT;
        for worker in self.workers.drain(..) {
            while !worker.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if worker.is_finished() {
                let _ = worker.join();
            } else {
                log::error!("pool: a worker is stuck in a poll; leaving it");
            }
        }
        {
            let _context = enter(&self.context);
            scheduler.drop_leftovers();
        }
        self.context.blocking.shutdown(Duration::from_secs(1));
        self.context.reactor.with(|core| core.close());
        if let Some(ring) = self.ring.take() {
            let _ = ring.join();
        }
    }
}

/// Runs `future` on a new pool.
pub fn block_on<F: Future>(future: F) -> io::Result<F::Output> {
    Pool::new()?.block_on(future)
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

/// Waits until the ring thread has submitted everything queued so far and
/// sleeps (for tests and demonstrations that need an operation to be in the
/// kernel before they make it complete).
pub async fn until_submitted() {
    while !reactor::with(|core| core.ring_idle()) {
        yield_now().await;
    }
}

/// For tests: a pool of `workers`, or `None` after a loud message when
/// io_uring is not usable here, unless `REQUIRE_IO_URING=1`, which makes
/// that a failure.
pub fn pool_or_skip(workers: usize) -> Option<Pool> {
    crate::ring::open_or_skip(8)?;
    Some(
        Pool::builder()
            .workers(workers)
            .build()
            .expect("a ring opened a moment ago"),
    )
}
