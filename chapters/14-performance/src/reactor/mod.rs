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
pub use slots::{Completion, Key, Parked};
pub use timers::TimerKey;

use crate::bufring::BufRing;
use crate::ring::{self, Tuning};
use crate::sys::{self, RingFd};
use doorbell::WakeRead;
use io_uring::{IoUring, cqueue, opcode, squeue, types};
use slots::{SlotState, Slots, UserData};
use std::io;
use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
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
    /// `AsyncCancel` entries queued for dropped operations.
    pub cancels: u64,
    /// Panics caught while a dropped operation dealt with its result.
    pub abandon_panics: u64,
    /// Turns that found the completion queue overflowed: the kernel kept the
    /// completions that did not fit, and the next enter fetched them.
    pub cq_overflows: u64,
}

/// The ring and everything that must live as long as the kernel's view of it.
pub struct Reactor {
    ring: IoUring,
    /// How `io_uring_enter` names the ring: its descriptor, or its index
    /// once registered.
    ring_fd: RingFd,
    /// Whether a kernel thread polls the submission queue.
    sqpoll: bool,
    /// Whether the kernel flags task work that waits for this thread.
    taskrun_flag: bool,
    /// The set-up the ring got (a kernel may refuse some flags).
    applied: Tuning,
    /// The provided buffer ring, if the runtime has one. Declared after
    /// `ring`, so it is dropped after the ring is closed.
    bufs: Option<Rc<BufRing>>,
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

/// The sizes of ring the runtime works with. The smallest holds a linked
/// pair, which must be queued together; the largest is the kernel's limit.
pub const ENTRIES: std::ops::RangeInclusive<u32> = 2..=32_768;

impl Reactor {
    pub(crate) fn new(entries: u32, tuning: &Tuning) -> io::Result<Reactor> {
        if !ENTRIES.contains(&entries) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a ring of {entries} entries: the runtime needs {} to {} \
                     (a linked write and read go to the kernel together)",
                    ENTRIES.start(),
                    ENTRIES.end()
                ),
            ));
        }
        let (ring, taskrun_flag, mut applied) = ring::open_with(entries, tuning)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let plain = RingFd::Plain(ring.as_raw_fd());
        let ring_fd = if tuning.register_ring_fd {
            sys::register_ring_fd(ring.as_raw_fd()).unwrap_or_else(|e| {
                log::warn!("reactor: cannot register the ring's descriptor: {e}");
                applied.register_ring_fd = false;
                plain
            })
        } else {
            plain
        };
        let bufs = match tuning.buffers {
            Some((count, size)) => Some(BufRing::register(&ring, count, size)?),
            None => None,
        };
        let mut reactor = Reactor {
            applied,
            bufs,
            sqpoll: ring.params().is_setup_sqpoll(),
            taskrun_flag,
            ring,
            ring_fd,
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

    /// The set-up the ring got.
    pub(crate) fn tuning(&self) -> Tuning {
        self.applied
    }

    /// The provided buffer ring, if this runtime has one.
    pub(crate) fn bufs(&self) -> Option<Rc<BufRing>> {
        self.bufs.clone()
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
            let (first, last) = make();
            let k = self.slots.allocate(waker.clone(), first.is_some());
            let entry =
                |e: squeue::Entry, data: UserData| e.user_data(data.encode());
            let pushed = match (first, last) {
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

    // ANCHOR: many
    /// Queues a multishot operation's entry, in a slot that stays until the
    /// kernel's completion without `MORE`.
    ///
    /// # Safety
    /// As for `submit_or_result`: until the last completion.
    pub(crate) unsafe fn submit_many(
        &mut self,
        entry: squeue::Entry,
    ) -> io::Result<Key> {
        let key = self.slots.allocate_many();
        let entry = entry.user_data(UserData::Op(key).encode());
        // SAFETY: passed on from the caller.
        if let Err(e) = unsafe { self.push(&entry) } {
            self.slots.release_unsubmitted(key);
            return Err(e);
        }
        Ok(key)
    }

    /// A multishot operation's next result; `None` once the kernel has
    /// ended it and every result was taken (its slot is then freed).
    pub(crate) fn next_of_many(
        &mut self,
        key: Key,
        waker: &Waker,
    ) -> Poll<Option<(i32, u32)>> {
        match self.slots.state(key) {
            Some(SlotState::Many {
                results,
                waker: stored,
                ended,
            }) => {
                if let Some(result) = results.pop_front() {
                    return Poll::Ready(Some(result));
                }
                if *ended {
                    self.slots.release(key);
                    return Poll::Ready(None);
                }
                *stored = Some(waker.clone());
                Poll::Pending
            }
            _ => Poll::Ready(None),
        }
    }
    // ANCHOR_END: many

    /// How many results of a multishot operation wait to be taken.
    pub(crate) fn queued_of_many(&mut self, key: Key) -> usize {
        match self.slots.state(key) {
            Some(SlotState::Many { results, .. }) => results.len(),
            _ => 0,
        }
    }

    // ANCHOR: park
    /// Called when an operation's future is dropped. If the operation is still
    /// in flight, `resources` (its buffer, its fd, its address) move into the
    /// slot, and an `AsyncCancel` is queued for it. They are freed only when
    /// the operation's own completion arrives (cancelled or not; the cancel's
    /// completion is not the end): until then the kernel may still write
    /// into them.
    pub(crate) fn park(&mut self, key: Key, resources: Box<dyn Parked>) {
        match self.slots.state(key) {
            Some(state @ SlotState::InFlight(_)) => {
                log::debug!(
                    "reactor: operation {key:?} dropped in flight; parking its \
                     resources and cancelling it"
                );
                *state = SlotState::Parked(resources);
                self.cancel(key);
            }
            Some(SlotState::Done(completion)) => {
                // Completed, and the result not taken: the kernel is done
                // with the resources, and the result may hold something to
                // keep for the next caller (read bytes, a connection).
                let completion = *completion;
                self.slots.release(key);
                self.abandon_completion(resources, completion);
            }
            Some(SlotState::Many { results, ended, .. }) => {
                // The results nobody took go to the operation; then it is
                // parked until its last completion, or over if that came.
                let (results, ended) = (std::mem::take(results), *ended);
                let mut resources = resources;
                for (result, flags) in results {
                    let (woken, stats) = (&mut self.woken, &mut self.stats);
                    abandon_more(&mut *resources, result, flags, woken, stats);
                }
                if ended {
                    self.slots.release(key);
                    self.abandon(resources, -libc::ECANCELED);
                } else if let Some(state) = self.slots.state(key) {
                    *state = SlotState::Parked(resources);
                    self.cancel(key);
                }
            }
            _ => {}
        }
    }
    // ANCHOR_END: park

    // ANCHOR: cancel
    /// Queues an `AsyncCancel` for each entry of the operation `key` names.
    /// A cancel that finds nothing (`-ENOENT`: the operation completed, or is
    /// the second of a linked pair that has not started) or finds it too far
    /// along to stop (`-EALREADY`) is normal; the operation's own completion
    /// comes either way.
    fn cancel(&mut self, key: Key) {
        self.stats.cancels += 1;
        for target in self.slots.cancel_targets(key) {
            let cancel = opcode::AsyncCancel::new(target.encode())
                .build()
                .user_data(UserData::Cancel(key).encode());
            // SAFETY: a cancel entry points to nothing.
            if let Err(e) = unsafe { self.push(&cancel) } {
                log::error!("reactor: cannot queue a cancel for {key:?}: {e}");
            }
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
    /// until a completion arrives or `deadline` passes. It always asks for
    /// completions (`GETEVENTS`): with `DEFER_TASKRUN` that is the only time
    /// the kernel runs the work that finishes them. With SQPOLL the kernel's
    /// thread submits, and an enter that need not wait is skipped unless that
    /// thread is asleep.
    fn enter(&mut self, wait: bool, deadline: Option<Instant>) -> io::Result<()> {
        let result = loop {
            // Dropping the submission queue publishes its tail to the kernel.
            let to_submit = self.ring.submission().len() as u32;
            let mut flags = sys::ENTER_GETEVENTS;
            if self.sqpoll {
                std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
                let sq = self.ring.submission();
                if sq.need_wakeup() {
                    flags |= sys::ENTER_SQ_WAKEUP;
                } else if !wait && !sq.cq_overflow() && !sq.taskrun() {
                    break Ok(to_submit as usize);
                }
            }
            let timeout = deadline.map(|d| {
                types::Timespec::from(d.saturating_duration_since(Instant::now()))
            });
            let args = timeout
                .as_ref()
                .map(|ts| types::SubmitArgs::new().timespec(ts));
            let want = u32::from(wait);
            let args = args.as_ref().filter(|_| wait);
            let result =
                sys::io_uring_enter(self.ring_fd, to_submit, want, flags, args);
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
        // Completions that need this thread's help (task work, such as
        // finishing a socket read) are run only when it enters the kernel.
        // With `TASKRUN_FLAG` the kernel flags that such work waits; without
        // it (SQPOLL) the reactor enters while anything is in flight, as in
        // chapter 12. Completions that did not fit in the completion queue
        // wait in the kernel for an enter too.
        let (overflowed, work_waits) = {
            let sq = self.ring.submission();
            (sq.cq_overflow(), sq.taskrun())
        };
        if overflowed {
            self.stats.cq_overflows += 1;
        }
        let help = work_waits || (!self.taskrun_flag && self.slots.in_flight() > 0);
        if block || overflowed || self.queued > 0 || help {
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
        let mut cancel_missed = Vec::new();
        let completed: Vec<(u64, i32, u32)> = self
            .ring
            .completion()
            .map(|c| (c.user_data(), c.result(), c.flags()))
            .collect();
        for (data, result, flags) in completed {
            self.stats.completions += 1;
            match UserData::decode(data) {
                UserData::WakeRead => {
                    self.wake_read.armed = false;
                    rearm = true;
                }
                UserData::WakeReadCancel => {}
                // A cancel that found nothing: the operation completed (its
                // completion is in this batch or was reaped), or it is the
                // second of a linked pair whose first had just finished and
                // which had not started yet. Looked at again below.
                UserData::Cancel(key) if result == -libc::ENOENT => {
                    cancel_missed.push(key);
                }
                UserData::Cancel(_) => {}
                UserData::Op(key) if self.slots.is_many(key) => {
                    self.finish_one_of_many(key, result, flags);
                }
                UserData::Op(key) => self.finish(
                    key,
                    Completion {
                        first: None,
                        result,
                        flags,
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
                        flags: 0,
                    };
                    self.finish(key, completion);
                }
            }
        }
        // Still parked after the whole batch: the cancel missed an operation
        // that had not started. Once more; it has by now.
        for key in cancel_missed {
            if self.slots.is_parked(key) && self.slots.take_cancel_retry(key) {
                self.cancel(key);
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
                self.woken.extend(waker);
            }
            Some(SlotState::Parked(resources)) => {
                self.stats.parked_completions += 1;
                self.abandon_completion(resources, completion);
                self.slots.release(key);
            }
            _ => log::debug!("reactor: stale completion for {key:?} ignored"),
        }
    }

    /// One completion of a multishot operation: queued for its future (the
    /// last one, without `MORE`, ends it), or, if the future is gone, handed
    /// to the parked operation: a result to keep, and at the end, the end.
    fn finish_one_of_many(&mut self, key: Key, result: i32, flags: u32) {
        let more = cqueue::more(flags);
        let parked = match self.slots.state(key) {
            Some(SlotState::Many {
                results,
                waker,
                ended,
            }) => {
                results.push_back((result, flags));
                self.woken.extend(waker.take());
                if !more {
                    *ended = true;
                    self.slots.many_ended();
                }
                return;
            }
            Some(SlotState::Parked(resources)) if more => {
                let (woken, stats) = (&mut self.woken, &mut self.stats);
                abandon_more(&mut **resources, result, flags, woken, stats);
                return;
            }
            Some(SlotState::Parked(_)) => self.slots.complete(
                key,
                Completion {
                    first: None,
                    result,
                    flags,
                },
            ),
            _ => {
                // Nobody's: a buffer it carries goes back to the ring.
                if let (Some(bid), Some(bufs)) =
                    (cqueue::buffer_select(flags), &self.bufs)
                {
                    bufs.reclaim(bid);
                }
                None
            }
        };
        if let Some(SlotState::Parked(resources)) = parked {
            self.stats.parked_completions += 1;
            self.slots.release(key);
            let last = Completion {
                first: None,
                result,
                flags,
            };
            self.abandon_completion(resources, last);
        }
    }

    /// A dropped operation's last completion. A receive that took a ring
    /// buffer gets the bytes first (through `abandoned_more`, which gives
    /// the buffer back), then the end.
    fn abandon_completion(
        &mut self,
        mut resources: Box<dyn Parked>,
        completion: Completion,
    ) {
        let Completion { result, flags, .. } = completion;
        if cqueue::buffer_select(flags).is_some() {
            let (woken, stats) = (&mut self.woken, &mut self.stats);
            abandon_more(&mut *resources, result, flags, woken, stats);
        }
        self.abandon(resources, result);
    }

    /// Lets a dropped operation deal with its result. That is the
    /// operation's code, not the reactor's: a panic in it is caught and
    /// logged, so that the rest of the batch is still delivered.
    fn abandon(&mut self, resources: Box<dyn Parked>, result: i32) {
        let woken = &mut self.woken;
        let run = AssertUnwindSafe(|| resources.abandoned(result, woken));
        if std::panic::catch_unwind(run).is_err() {
            self.stats.abandon_panics += 1;
            log::error!("reactor: a dropped operation panicked with its result");
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

/// Hands a dropped operation a result that is not its end (or a receive's
/// ring buffer, before the end). That is the operation's code: a panic in it
/// is caught and counted, so the rest of the batch is still delivered.
fn abandon_more(
    resources: &mut dyn Parked,
    result: i32,
    flags: u32,
    woken: &mut Vec<Waker>,
    stats: &mut Stats,
) {
    let keep = AssertUnwindSafe(|| resources.abandoned_more(result, flags, woken));
    if std::panic::catch_unwind(keep).is_err() {
        stats.abandon_panics += 1;
    }
}

// ANCHOR: drop
impl Drop for Reactor {
    /// Before the slots (and the buffers parked in them) are freed, every
    /// operation still in flight is cancelled, both entries of a linked pair
    /// included, and its completion awaited: the kernel must be done with a
    /// buffer before the buffer goes. Cancels are sent again now and then,
    /// in case one arrived while its target could not be found. If some
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
        let parked = self.slots.take_parked();
        let leaked = !parked.is_empty();
        for resources in parked {
            log::error!(
                "reactor: an operation never completed; leaking its resources"
            );
            std::mem::forget(resources);
        }
        self.wake_read.leak_if_armed();
        if leaked {
            // A receive may still pick a buffer: the buffers stay, forever.
            std::mem::forget(self.bufs.take());
        }
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
        let mut reactor = Reactor::new(8, &Tuning::default()).unwrap();
        let (first, first_waker) = counting_waker();
        let old = reactor.slots.allocate(first_waker, false);
        reactor.slots.release_unsubmitted(old); // its slot was handed back
        let (second, second_waker) = counting_waker();
        let new = reactor.slots.allocate(second_waker, false);
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
