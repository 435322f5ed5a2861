//! The reactor: one ring, and what routes its completions back to futures.
//!
//! - `slots`: the table of operations in flight, named in `user_data`;
//! - `timers`: deadlines, in an ordered map, that bound each wait;
//! - `doorbell`: the eventfd read that lets other threads end a wait.
//!
//! This file has submission (every entry is queued, and one
//! `io_uring_enter` per turn submits them all and waits), reaping, and the
//! reactor's `Drop`, which never frees what the kernel may still write.

mod doorbell;
mod slots;
mod timers;

pub use doorbell::Doorbell;
pub use slots::{Completion, Key, Parked};
pub use timers::TimerKey;

use crate::ring;
use doorbell::WakeRead;
use io_uring::{IoUring, opcode, squeue, types};
use slots::{SlotState, Slots, UserData};
use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};
use timers::Timers;

/// Counters for tests and for the curious (`RUST_LOG=debug`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// `io_uring_enter` calls made.
    pub enters: u64,
    /// The most entries one `io_uring_enter` submitted.
    pub largest_batch: u64,
    /// Completions reaped.
    pub completions: u64,
    /// Waits interrupted by a signal (EINTR) and resumed.
    pub interrupted: u64,
    /// Times the submission queue was full and had to be flushed early.
    pub full_queue_flushes: u64,
    /// Completions for parked operations (their resources were freed then).
    pub parked_completions: u64,
}

/// The ring and everything that must live as long as the kernel's view of it.
pub struct Reactor {
    ring: IoUring,
    /// Operations the kernel may still be working on.
    slots: Slots,
    timers: Timers,
    /// Shared with every waker, so other threads can end a wait.
    doorbell: Arc<Doorbell>,
    wake_read: WakeRead,
    /// Entries pushed since the last `io_uring_enter`.
    queued: u64,
    /// Set while the reactor is being dropped: the wake read is not re-armed.
    closing: bool,
    stats: Stats,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("in_flight", &self.slots.in_flight())
            .field("timers", &self.timers.len())
            .field("queued", &self.queued)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<Reactor>>>> = const { RefCell::new(None) };
}

/// Runs `f` with the reactor of the runtime running on this thread.
///
/// # Panics
/// If no runtime runs here: an I/O future polled outside `block_on`.
pub fn with<R>(f: impl FnOnce(&mut Reactor) -> R) -> R {
    CURRENT.with(|current| {
        let current = current.borrow();
        let reactor = current.as_ref().unwrap_or_else(|| {
            panic!("an io_uring future was polled outside Runtime::block_on")
        });
        f(&mut reactor.borrow_mut())
    })
}

/// Makes `reactor` this thread's current one until the guard is dropped.
pub(crate) fn make_current(reactor: Rc<RefCell<Reactor>>) -> impl Drop {
    struct Guard(Option<Rc<RefCell<Reactor>>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    Guard(CURRENT.with(|c| c.replace(Some(reactor))))
}

impl Reactor {
    pub(crate) fn new(entries: u32) -> io::Result<Reactor> {
        let ring = ring::open_tuned(entries)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let mut reactor = Reactor {
            ring,
            slots: Slots::default(),
            timers: Timers::default(),
            doorbell: Arc::new(Doorbell::new()?),
            wake_read: WakeRead::default(),
            queued: 0,
            closing: false,
            stats: Stats::default(),
        };
        reactor.arm_wake_read()?;
        Ok(reactor)
    }

    pub(crate) fn doorbell(&self) -> Arc<Doorbell> {
        Arc::clone(&self.doorbell)
    }

    pub(crate) fn stats(&self) -> Stats {
        self.stats
    }

    /// Operations whose futures are gone but whose completions are not.
    pub(crate) fn parked(&self) -> usize {
        self.slots.parked()
    }

    fn arm_wake_read(&mut self) -> io::Result<()> {
        let entry = self
            .wake_read
            .arm(&self.doorbell)
            .user_data(UserData::WakeRead.encode());
        // SAFETY: the read's buffer is a heap allocation owned by the reactor
        // and touched by nothing else; the reactor's `Drop` waits for this read
        // to complete (or leaks the buffer) before the buffer is freed.
        unsafe { self.push(&entry) }
    }

    // ANCHOR: submit-or-result
    /// The one way an I/O future talks to the reactor. On its first poll
    /// (`key` is `None`) `make` builds the entries (a linked first one, and
    /// the operation's own), which are queued and will be submitted with
    /// everything else at the end of this turn; `make` never runs again for
    /// this operation. Later polls return the completion once it has arrived,
    /// and otherwise update the waker.
    ///
    /// # Safety
    /// Everything the entries point to must stay valid until the completion
    /// has been returned, or until it is handed to [`Reactor::park`].
    pub(crate) unsafe fn submit_or_result(
        &mut self,
        key: &mut Option<Key>,
        waker: &Waker,
        make: impl FnOnce() -> (Option<squeue::Entry>, squeue::Entry),
    ) -> io::Result<Poll<Completion>> {
        let Some(k) = *key else {
            let k = self.slots.allocate(waker.clone());
            let entry =
                |e: squeue::Entry, data: UserData| e.user_data(data.encode());
            let pushed = match make() {
                // SAFETY: passed on from the caller.
                (None, last) => unsafe { self.push(&entry(last, UserData::Op(k))) },
                (Some(first), last) => {
                    let first = entry(first, UserData::LinkHead(k));
                    // SAFETY: passed on from the caller.
                    unsafe { self.push_pair(&first, &entry(last, UserData::Op(k))) }
                }
            };
            if let Err(e) = pushed {
                self.slots.release_unsubmitted(k);
                return Err(e);
            }
            *key = Some(k);
            return Ok(Poll::Pending);
        };
        match self.slots.state(k) {
            Some(SlotState::Done(completion)) => {
                let completion = *completion;
                self.slots.release(k);
                *key = None;
                Ok(Poll::Ready(completion))
            }
            Some(SlotState::InFlight(stored)) => {
                match stored {
                    Some(stored) => stored.clone_from(waker),
                    None => *stored = Some(waker.clone()),
                }
                Ok(Poll::Pending)
            }
            _ => Err(io::Error::other(
                "reactor: polled an operation it does not know",
            )),
        }
    }
    // ANCHOR_END: submit-or-result

    // ANCHOR: park
    /// Called when an operation's future is dropped. If the operation is still
    /// in flight, `resources` (its buffer, its fd, its address) move into the
    /// slot and are freed only when the completion arrives: until then the
    /// kernel may still write into them.
    pub(crate) fn park(&mut self, key: Key, resources: Box<dyn Parked>) {
        match self.slots.state(key) {
            Some(state @ SlotState::InFlight(_)) => {
                log::debug!(
                    "reactor: operation {key:?} dropped in flight; parking its resources"
                );
                *state = SlotState::Parked(resources);
            }
            Some(SlotState::Done(completion)) => {
                // The kernel is done with them; the result may still hold
                // something to clean up (an accepted socket, say).
                resources.abandoned(completion.result);
                self.slots.release(key);
            }
            _ => {}
        }
    }
    // ANCHOR_END: park

    // ANCHOR: push
    /// Queues an entry. A full submission queue is flushed to the kernel and
    /// the push retried: backpressure, never a failure.
    ///
    /// # Safety
    /// As for `io_uring::SubmissionQueue::push`: the entry's pointers must stay
    /// valid until its completion.
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        // SAFETY: passed on from the caller.
        unsafe { self.push_all(std::slice::from_ref(entry)) }
    }

    /// Queues linked entries next to each other: a link only joins an entry
    /// to the one right after it, so they must not be split by a flush.
    ///
    /// # Safety
    /// As for [`Reactor::push`], for both entries.
    unsafe fn push_pair(
        &mut self,
        first: &squeue::Entry,
        second: &squeue::Entry,
    ) -> io::Result<()> {
        // SAFETY: passed on from the caller.
        unsafe { self.push_all(&[first.clone(), second.clone()]) }
    }

    /// # Safety
    /// As for [`Reactor::push`], for every entry.
    unsafe fn push_all(&mut self, entries: &[squeue::Entry]) -> io::Result<()> {
        loop {
            // SAFETY: passed on from the caller.
            if unsafe { self.ring.submission().push_multiple(entries) }.is_ok() {
                self.queued += entries.len() as u64;
                return Ok(());
            }
            self.stats.full_queue_flushes += 1;
            self.enter(false, None)?;
            self.reap();
        }
    }
    // ANCHOR_END: push

    // ANCHOR: enter
    /// One `io_uring_enter`: submits everything queued and, if `wait`, sleeps
    /// until a completion arrives or `deadline` passes.
    fn enter(&mut self, wait: bool, deadline: Option<Instant>) -> io::Result<()> {
        loop {
            let timeout = deadline.map(|d| {
                types::Timespec::from(d.saturating_duration_since(Instant::now()))
            });
            let want = usize::from(wait);
            let args = types::SubmitArgs::new();
            let result = match &timeout {
                Some(ts) if wait => self
                    .ring
                    .submitter()
                    .submit_with_args(want, &args.timespec(ts)),
                _ => self.ring.submitter().submit_and_wait(want),
            };
            self.stats.enters += 1;
            // Awake again: wakers from other threads need not ring.
            self.doorbell.awake();
            match result {
                Ok(submitted) => {
                    self.stats.largest_batch =
                        self.stats.largest_batch.max(submitted as u64);
                    self.queued = 0;
                    return Ok(());
                }
                // A signal arrived while we waited: wait again.
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {
                    self.stats.interrupted += 1;
                }
                // The deadline passed with no completion: a timer is due.
                Err(e) if e.raw_os_error() == Some(libc::ETIME) => {
                    self.queued = 0;
                    return Ok(());
                }
                // The completion queue is backed up: reap, then go on.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    self.reap();
                    if !wait {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    // ANCHOR_END: enter

    // ANCHOR: turn
    /// One turn: submit everything queued in a single `io_uring_enter`,
    /// sleeping in it if `block` (until a completion, a timer, or a wake from
    /// another thread), then reap every completion and fire due timers.
    pub(crate) fn turn(&mut self, block: bool) -> io::Result<()> {
        let deadline = self.timers.next_deadline();
        let block = block && deadline.is_none_or(|d| d > Instant::now());
        // Even with nothing to submit and no reason to sleep, enter the kernel
        // while operations are in flight: completions that need this thread's
        // help (task work, such as finishing a pipe read) are run on the way in.
        if block || self.queued > 0 || self.slots.in_flight() > 0 {
            if block {
                let next =
                    deadline.map(|d| d.saturating_duration_since(Instant::now()));
                log::debug!(
                    "reactor: submitting {} and sleeping (next timer in {next:?})",
                    self.queued
                );
            }
            self.enter(block, deadline)?;
        }
        self.reap();
        self.timers.fire_due(Instant::now());
        Ok(())
    }
    // ANCHOR_END: turn

    // ANCHOR: reap
    fn reap(&mut self) {
        let mut rearm = false;
        let completed: Vec<(u64, i32)> = self
            .ring
            .completion()
            .map(|c| (c.user_data(), c.result()))
            .collect();
        for (data, result) in completed {
            self.stats.completions += 1;
            match UserData::decode(data) {
                UserData::WakeRead => {
                    self.wake_read.armed = false;
                    rearm = true;
                }
                UserData::Cancel => {}
                UserData::Op(key) => self.finish(
                    key,
                    Completion {
                        first: None,
                        result,
                    },
                ),
                // The first of a linked pair failed (a success posts nothing).
                // Its `CQE_SKIP_SUCCESS` flag also makes the kernel skip the
                // completion of the entry it cancels, which never started: so
                // this is the operation's last completion, and the second
                // entry's resources were never touched.
                UserData::LinkHead(key) => {
                    let completion = Completion {
                        first: Some(result),
                        result: -libc::ECANCELED,
                    };
                    self.finish(key, completion);
                }
            }
        }
        if rearm
            && !self.closing
            && let Err(e) = self.arm_wake_read()
        {
            log::error!("reactor: cannot re-arm the cross-thread wake read: {e}");
        }
    }

    /// An operation's last completion: wake its future, or, if the future is
    /// gone, free what it left parked (the kernel is done with it now) and
    /// let it close whatever the operation created anyway.
    fn finish(&mut self, key: Key, completion: Completion) {
        match self.slots.complete(key, completion) {
            Some(SlotState::InFlight(waker)) => {
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Some(SlotState::Parked(resources)) => {
                self.stats.parked_completions += 1;
                resources.abandoned(completion.result);
                self.slots.release(key);
            }
            _ => log::debug!("reactor: stale completion for {key:?} ignored"),
        }
    }
    // ANCHOR_END: reap

    /// Registers (or, with a new waker, re-registers) a timer.
    pub(crate) fn set_timer(
        &mut self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
    ) {
        self.timers.set(key, deadline, waker);
    }

    /// Forgets a timer.
    pub(crate) fn cancel_timer(&mut self, key: TimerKey) {
        self.timers.cancel(key);
    }
}

// ANCHOR: drop
impl Drop for Reactor {
    /// Before the slots (and the buffers parked in them) are freed, every
    /// operation still in flight is cancelled and its completion awaited: the
    /// kernel must be done with a buffer before the buffer goes. If some
    /// completion never comes (it should), its resources are leaked, never
    /// freed under the kernel's feet.
    fn drop(&mut self) {
        self.closing = true;
        let mut targets: Vec<UserData> = self
            .slots
            .in_flight_keys()
            .into_iter()
            .map(UserData::Op)
            .collect();
        targets.push(UserData::WakeRead);
        for target in targets {
            let cancel = opcode::AsyncCancel::new(target.encode())
                .build()
                .user_data(UserData::Cancel.encode());
            // SAFETY: a cancel entry points to nothing.
            if unsafe { self.push(&cancel) }.is_err() {
                break;
            }
        }
        let give_up = Instant::now() + Duration::from_secs(5);
        while (self.slots.in_flight() > 0 || self.wake_read.armed)
            && Instant::now() < give_up
        {
            if self.enter(true, Some(give_up)).is_err() {
                break;
            }
            self.reap();
        }
        for resources in self.slots.take_parked() {
            log::error!(
                "reactor: an operation never completed; leaking its resources"
            );
            std::mem::forget(resources);
        }
        self.wake_read.leak_if_armed();
    }
}
// ANCHOR_END: drop

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::task::Wake;

    struct Counter(AtomicU32);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicU32::new(0)));
        (Arc::clone(&counter), Waker::from(counter))
    }

    #[test]
    fn a_late_completion_never_wakes_the_slots_next_owner() {
        if ring::open_or_skip(8).is_none() {
            return;
        }
        let mut reactor = Reactor::new(8).unwrap();
        let (first, first_waker) = counting_waker();
        let old = reactor.slots.allocate(first_waker);
        reactor.slots.release_unsubmitted(old); // its slot was handed back
        let (second, second_waker) = counting_waker();
        let new = reactor.slots.allocate(second_waker);
        assert_ne!(new, old, "the slot is reused with a new generation");
        // A completion carrying the old key arrives (a duplicate, or one
        // that raced with the slot's release): it must wake nobody.
        let nop = |key| {
            opcode::Nop::new()
                .build()
                .user_data(UserData::Op(key).encode())
        };
        // SAFETY: a NOP points to nothing.
        unsafe { reactor.push(&nop(old)) }.unwrap();
        reactor.turn(true).unwrap();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 0);
        assert!(matches!(
            reactor.slots.state(new),
            Some(SlotState::InFlight(_))
        ));
        // The real completion for the new key does wake its owner.
        // SAFETY: a NOP points to nothing.
        unsafe { reactor.push(&nop(new)) }.unwrap();
        reactor.turn(true).unwrap();
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
