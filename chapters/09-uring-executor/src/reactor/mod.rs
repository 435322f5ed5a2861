//! The reactor: one ring, and what routes its completions back to futures.
//!
//! - `slots`: the table of operations in flight, named in `user_data`;
//! - `timers`: deadlines, in an ordered map, that bound each wait;
//! - `doorbell`: the eventfd read that lets other threads end a wait;
//! - `handle`: the shared reference to a reactor that operations, timers
//!   and the runtime hold, and the thread's current one.
//!
//! This file has submission (every entry is queued, and one
//! `io_uring_enter` per turn submits them all and waits), reaping, the
//! cancelling of dropped operations, and the reactor's `Drop`, which never
//! frees what the kernel may still write.

mod doorbell;
mod handle;
mod slots;
mod timers;

pub use doorbell::Doorbell;
pub use handle::{Handle, with};
pub use slots::{Key, Parked};
pub use timers::TimerKey;

use crate::ring;
use doorbell::WakeRead;
use io_uring::{IoUring, opcode, squeue, types};
use slots::{SlotState, Slots, UserData};
use std::io;
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
    /// `AsyncCancel` entries queued for dropped operations.
    pub cancels: u64,
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
    /// Wakers of the operations and timers that finished, for the executor
    /// to call once it no longer holds the reactor: a waker is code of
    /// anyone's, and may poll or drop futures that need the reactor.
    woken: Vec<Waker>,
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

/// The sizes of ring the runtime works with: at least one entry, at most the
/// kernel's limit.
pub const ENTRIES: std::ops::RangeInclusive<u32> = 1..=32_768;

impl Reactor {
    pub(crate) fn new(entries: u32) -> io::Result<Reactor> {
        if !ENTRIES.contains(&entries) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a ring of {entries} entries: the runtime needs {} to {}",
                    ENTRIES.start(),
                    ENTRIES.end()
                ),
            ));
        }
        let ring =
            ring::open(entries).map_err(|e| io::Error::other(e.to_string()))?;
        let mut reactor = Reactor {
            ring,
            slots: Slots::default(),
            timers: Timers::default(),
            doorbell: Arc::new(Doorbell::new()?),
            wake_read: WakeRead::default(),
            queued: 0,
            closing: false,
            woken: Vec::new(),
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

    /// Timers pending.
    pub(crate) fn timers(&self) -> usize {
        self.timers.len()
    }

    /// Moves the wakers of what finished into `into`, to be called after the
    /// reactor is let go.
    pub(crate) fn take_woken(&mut self, into: &mut Vec<Waker>) {
        into.append(&mut self.woken);
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
    /// (`key` is `None`) `make` builds the entry, which is queued and will be
    /// submitted with everything else at the end of this turn; `make` never
    /// runs again for this operation. Later polls return the result once the
    /// completion has arrived, and otherwise update the waker.
    ///
    /// # Safety
    /// Everything the entry points to must stay valid until the result has
    /// been returned, or until it is handed to [`Reactor::park`].
    pub(crate) unsafe fn submit_or_result(
        &mut self,
        key: &mut Option<Key>,
        waker: &Waker,
        make: impl FnOnce() -> squeue::Entry,
    ) -> io::Result<Poll<i32>> {
        let Some(k) = *key else {
            let k = self.slots.allocate(waker.clone());
            let entry = make().user_data(UserData::Op(k).encode());
            // SAFETY: passed on from the caller.
            if let Err(e) = unsafe { self.push(&entry) } {
                self.slots.release_unsubmitted(k);
                return Err(e);
            }
            *key = Some(k);
            return Ok(Poll::Pending);
        };
        match self.slots.state(k) {
            Some(SlotState::Done(result)) => {
                let result = *result;
                self.slots.release(k);
                *key = None;
                Ok(Poll::Ready(result))
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
    /// in flight, `resources` (its buffer, its fd) move into the slot, and an
    /// `AsyncCancel` is queued for it. They are freed only when the
    /// operation's own completion arrives (cancelled or not; the cancel's
    /// completion is not the end): until then the kernel may still write
    /// into them.
    pub(crate) fn park(&mut self, key: Key, resources: Parked) {
        match self.slots.state(key) {
            Some(state @ SlotState::InFlight(_)) => {
                log::debug!(
                    "reactor: operation {key:?} dropped in flight; parking its \
                     resources and cancelling it"
                );
                *state = SlotState::Parked(resources);
                self.cancel(key);
            }
            // Already complete: the kernel is done with them.
            Some(SlotState::Done(_)) => {
                drop(resources);
                self.slots.release(key);
            }
            _ => {}
        }
    }
    // ANCHOR_END: park

    // ANCHOR: cancel
    /// Queues an `AsyncCancel` for the operation `key` names. A cancel that
    /// finds nothing (`-ENOENT`: the operation has completed) or finds it too
    /// far along to stop (`-EALREADY`) is normal; the operation's own
    /// completion comes either way.
    fn cancel(&mut self, key: Key) {
        self.stats.cancels += 1;
        let cancel = opcode::AsyncCancel::new(UserData::Op(key).encode())
            .build()
            .user_data(UserData::Cancel(key).encode());
        // SAFETY: a cancel entry points to nothing.
        if let Err(e) = unsafe { self.push(&cancel) } {
            log::error!("reactor: cannot queue a cancel for {key:?}: {e}");
        }
    }
    // ANCHOR_END: cancel

    // ANCHOR: push
    /// Queues an entry. A full submission queue is flushed to the kernel and
    /// the push retried: backpressure, never a failure.
    ///
    /// # Safety
    /// As for `io_uring::SubmissionQueue::push`: the entry's pointers must stay
    /// valid until its completion.
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: passed on from the caller.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                self.queued += 1;
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
        let result = loop {
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
            match result {
                // A signal arrived while we waited: wait again, with the
                // doorbell as it is. If the executor was asleep, wakers on
                // other threads must go on ringing, or this wait never ends.
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {
                    self.stats.interrupted += 1;
                }
                other => break other,
            }
        };
        // Awake again, and this is the only way out: a wait never starts
        // again after this line, so wakers need not ring.
        self.doorbell.awake();
        match result {
            Ok(submitted) => {
                self.stats.largest_batch =
                    self.stats.largest_batch.max(submitted as u64);
                self.queued = 0;
                Ok(())
            }
            // The deadline passed with no completion: a timer is due.
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => Ok(()),
            // The completion queue is backed up and nothing was submitted:
            // reap, and let the executor see what that woke before it
            // decides to wait again.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                self.reap();
                Ok(())
            }
            Err(e) => Err(e),
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
        self.timers.fire_due(Instant::now(), &mut self.woken);
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
                UserData::Cancel(_) | UserData::WakeReadCancel => {}
                UserData::Op(key) => self.finish(key, result),
            }
        }
        if rearm
            && !self.closing
            && let Err(e) = self.arm_wake_read()
        {
            log::error!("reactor: cannot re-arm the cross-thread wake read: {e}");
        }
    }

    /// An operation's completion: wake its future, or, if the future is
    /// gone, free what it left parked (the kernel is done with it now).
    fn finish(&mut self, key: Key, result: i32) {
        match self.slots.complete(key, result) {
            Some(SlotState::InFlight(waker)) => {
                self.woken.extend(waker);
            }
            Some(SlotState::Parked(resources)) => {
                self.stats.parked_completions += 1;
                drop(resources);
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
}

// ANCHOR: drop
impl Drop for Reactor {
    /// Before the slots (and the buffers parked in them) are freed, every
    /// operation still in flight is cancelled and its completion awaited: the kernel must be done with a
    /// buffer before the buffer goes. Cancels are sent again now and then. If some
    /// completion never comes, its resources are leaked, never freed under
    /// the kernel's feet.
    fn drop(&mut self) {
        self.closing = true;
        let give_up = Instant::now() + Duration::from_secs(5);
        let mut next_cancel = Instant::now();
        while self.slots.in_flight() > 0 || self.wake_read.armed {
            let now = Instant::now();
            if now >= give_up {
                break;
            }
            if now >= next_cancel {
                self.cancel_everything();
                next_cancel = now + Duration::from_millis(100);
            }
            if self.enter(true, Some(next_cancel.min(give_up))).is_err() {
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

impl Reactor {
    /// Queues a cancel for every operation in flight and for the wake read.
    fn cancel_everything(&mut self) {
        for key in self.slots.in_flight_keys() {
            self.cancel(key);
        }
        if self.wake_read.armed {
            let cancel = opcode::AsyncCancel::new(UserData::WakeRead.encode())
                .build()
                .user_data(UserData::WakeReadCancel.encode());
            // SAFETY: a cancel entry points to nothing.
            if let Err(e) = unsafe { self.push(&cancel) } {
                log::error!("reactor: cannot cancel the wake read: {e}");
            }
        }
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
        reactor.woken.drain(..).for_each(Waker::wake);
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
        reactor.woken.drain(..).for_each(Waker::wake);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
