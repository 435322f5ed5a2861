//! The executor: a run queue, a count of live tasks, and a loop that polls
//! what was woken and otherwise sleeps until an interrupt.

use crate::queue::RunQueue;
use crate::task::{QUEUED, SPAWNED, SpawnError, Task, TaskRef};
use crate::waker;
use core::future::Future;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use critical_section::CriticalSection;

// ANCHOR: platform
/// What the executor needs from the machine it runs on.
pub trait Platform: Sync {
    /// Sleeps until an interrupt has been taken. The executor calls this
    /// inside a critical section, having just seen its run queue empty; an
    /// interrupt that became pending since then must end the wait at once,
    /// or its wake-up is lost. On a Cortex-M: `wfi` with interrupts masked,
    /// which wakes on a pending interrupt without taking it.
    fn wait_for_interrupt(&self, cs: CriticalSection<'_>) -> Wfi;

    /// A wake made the run queue non-empty, from any context or thread. On
    /// one core with the run loop's check under a critical section nothing
    /// more is needed; from another core or thread the executor's CPU must
    /// be interrupted out of its sleep.
    fn pend(&self) {}

    /// Something happened that a test or a debugger may want to see.
    fn trace(&self, _event: Event) {}
}

/// How a [`Platform::wait_for_interrupt`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wfi {
    /// An interrupt was taken (and may have woken a task).
    Interrupted,
    /// Nothing will ever interrupt again (a simulation's script ran out):
    /// the executor stops instead of sleeping forever.
    Never,
}

/// What [`Platform::trace`] reports; each names the task it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Spawn(&'static str),
    Poll(&'static str),
    Finish(&'static str),
    Wake(&'static str),
    /// The run queue was empty and the executor went to sleep.
    Sleep,
}
// ANCHOR_END: platform

/// How [`Executor::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every spawned task finished.
    AllFinished,
    /// Tasks are waiting and the platform said nothing will wake them.
    Stalled { waiting: usize },
    /// `run` was called while it was already running (from a task, or on
    /// another thread); it did nothing.
    AlreadyRunning,
}

// ANCHOR: executor
pub struct Executor {
    queue: RunQueue,
    /// Tasks spawned and not finished.
    live: AtomicUsize,
    running: AtomicBool,
    platform: &'static dyn Platform,
}
// ANCHOR_END: executor

impl Executor {
    /// An executor for a `static`, on `platform`.
    pub const fn new(platform: &'static dyn Platform) -> Self {
        Executor {
            queue: RunQueue::new(),
            live: AtomicUsize::new(0),
            running: AtomicBool::new(false),
            platform,
        }
    }

    /// Moves `future` into `task`'s static storage and queues it. Fails if
    /// the task still runs a previous future. `Send` because any thread or
    /// interrupt may call this, and the future then runs on the executor's.
    pub fn spawn<F, const SIZE: usize>(
        &'static self,
        task: &'static Task<SIZE>,
        future: F,
    ) -> Result<(), SpawnError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let spawned = task.spawn(self, future)?;
        self.live.fetch_add(1, Ordering::AcqRel);
        self.trace(Event::Spawn(spawned.task.name()));
        if spawned.needs_queueing {
            self.enqueue(spawned.task);
        }
        Ok(())
    }

    /// Tasks spawned and not finished.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn trace(&self, event: Event) {
        self.platform.trace(event);
    }

    /// Queues `task`, which the caller marked QUEUED.
    pub(crate) fn enqueue(&self, task: TaskRef) {
        if self.queue.push(task) {
            self.platform.pend();
        }
    }

    // ANCHOR: run
    /// Polls woken tasks until every task has finished, sleeping whenever
    /// none is ready. Call it from one place: the main loop of the program.
    pub fn run(&'static self) -> RunEnd {
        if self.running.swap(true, Ordering::Acquire) {
            return RunEnd::AlreadyRunning;
        }
        let end = loop {
            self.poll_woken();
            let waiting = self.live();
            if waiting == 0 {
                break RunEnd::AllFinished;
            }
            // The decision to sleep is taken with interrupts masked: a wake
            // from an interrupt either came before the check (the queue is
            // not empty) or is still pending and ends the wait at once.
            let woke = critical_section::with(|cs| {
                if !self.queue.is_empty() {
                    return Wfi::Interrupted;
                }
                self.trace(Event::Sleep);
                self.platform.wait_for_interrupt(cs)
            });
            if woke == Wfi::Never {
                break RunEnd::Stalled { waiting };
            }
        };
        self.running.store(false, Ordering::Release);
        end
    }

    /// Polls every task woken so far, in the order they were woken.
    fn poll_woken(&'static self) {
        for task in self.queue.take_all() {
            // Clear QUEUED before polling: a wake during the poll must
            // queue the task again.
            let state = task.header().state.fetch_and(!QUEUED, Ordering::AcqRel);
            if state & SPAWNED == 0 {
                continue; // a wake that was queued just as it finished
            }
            self.trace(Event::Poll(task.name()));
            let waker = waker::waker(task);
            let mut cx = Context::from_waker(&waker);
            // SAFETY: this is the task's executor (the task was in its
            // queue), in its run loop, which `running` keeps to one caller;
            // SPAWNED was set.
            if let Poll::Ready(()) = unsafe { task.poll(&mut cx) } {
                // SAFETY: as above, and the future has finished.
                unsafe { task.drop_future() };
                task.header().state.fetch_and(!SPAWNED, Ordering::AcqRel);
                self.live.fetch_sub(1, Ordering::AcqRel);
                self.trace(Event::Finish(task.name()));
            }
        }
    }
    // ANCHOR_END: run
}
