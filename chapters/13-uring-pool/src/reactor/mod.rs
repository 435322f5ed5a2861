//! The reactor, split in two for a pool of threads: the ring and its thread
//! (`ring_thread`), which alone touch the kernel's queues, and the [`Core`],
//! the bookkeeping every thread shares under one lock.
//!
//! - `slots`: the table of operations in flight, named in `user_data`;
//! - `timers`: deadlines, in an ordered map, that bound each wait;
//! - `doorbell`: the eventfd read that lets workers end the ring's wait;
//! - `handle`: the shared reference to a reactor that operations, timers
//!   and the pool hold, and the thread's current one;
//! - `ring_thread`: the loop that submits, sleeps, reaps and fires timers,
//!   and drains the ring before it goes.
//!
//! A worker never enters the kernel for an operation: it records the
//! operation in the core and queues its entries there; the ring thread takes
//! the queue, submits it, and reports completions back through the core.

mod doorbell;
mod handle;
mod ring_thread;
mod slots;
mod timers;

pub use doorbell::Doorbell;
pub(crate) use handle::ReactorGuard;
pub use handle::{Handle, with};
pub(crate) use ring_thread::{OnSignal, RingConfig, start as start_ring};
pub use slots::{Completion, Key, Parked};
pub use timers::TimerKey;

use io_uring::{opcode, squeue};
use slots::{SlotState, Slots, UserData};
use std::io;
use std::panic::AssertUnwindSafe;
use std::task::{Poll, Waker};
use std::time::Instant;
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
    /// Times the ring thread went to sleep in `io_uring_enter`.
    pub ring_sleeps: u64,
    /// Doorbell writes: a worker found the ring thread asleep and woke it.
    pub doorbell_rings: u64,
    /// Operations that had to wait because the in-flight bound was reached.
    pub waited_for_room: u64,
}

/// The sizes of ring the runtime works with. The smallest holds a linked
/// pair, which must be queued together; the largest is the kernel's limit.
pub const ENTRIES: std::ops::RangeInclusive<u32> = 2..=32_768;

/// Entries for the ring thread to submit. A linked pair travels as one, so
/// that no flush of a full queue can split it.
#[derive(Debug)]
enum Pending {
    One(squeue::Entry),
    Pair(squeue::Entry, squeue::Entry),
}

// ANCHOR: core
/// What workers and the ring thread share, under one lock: the operations in
/// flight, the timers, the entries waiting to be submitted, and whether the
/// ring thread sleeps. Nothing here enters the kernel.
pub struct Core {
    slots: Slots,
    timers: Timers,
    /// Entries queued by workers, for the ring thread's next submission.
    pending: Vec<Pending>,
    /// Wakers of what finished, called once the lock is let go: a waker is
    /// anyone's code, and may want the lock itself.
    woken: Vec<Waker>,
    /// `Some(deadline)` while the ring thread sleeps (or is about to) until
    /// `deadline` at the latest. It is set under this lock in the same
    /// critical section in which the ring thread found nothing to do, so a
    /// worker either queued its work before that look or finds it set.
    sleeping: Option<Option<Instant>>,
    /// Set by `poke`: the doorbell must ring once the lock is let go.
    ring_doorbell: bool,
    /// The most operations in flight at once; more wait for room.
    limit: usize,
    /// Operations waiting for room under `limit`.
    room: Vec<Waker>,
    /// The pool is going away: new operations are refused.
    closing: bool,
    /// The ring thread has gone: nothing reaches the kernel any more.
    ring_gone: bool,
    stats: Stats,
}
// ANCHOR_END: core

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("in_flight", &self.slots.in_flight())
            .field("timers", &self.timers.len())
            .field("pending", &self.pending.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Core {
    fn new(limit: usize) -> Core {
        Core {
            slots: Slots::default(),
            timers: Timers::default(),
            pending: Vec::new(),
            woken: Vec::new(),
            sleeping: None,
            ring_doorbell: false,
            limit,
            room: Vec::new(),
            closing: false,
            ring_gone: false,
            stats: Stats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Operations whose futures are gone but whose completions are not.
    pub fn parked(&self) -> usize {
        self.slots.parked()
    }

    /// Operations the kernel has (or will have once the ring thread submits).
    pub fn in_flight(&self) -> usize {
        self.slots.in_flight()
    }

    /// Timers pending.
    pub fn timers(&self) -> usize {
        self.timers.len()
    }

    /// Whether everything queued has been submitted and the ring thread
    /// sleeps: what a test waits for before it makes completions happen.
    pub fn ring_idle(&self) -> bool {
        self.pending.is_empty() && self.sleeping.is_some()
    }

    // ANCHOR: poke
    /// Something for the ring thread to do was recorded: if it sleeps, the
    /// doorbell rings as soon as the lock is let go (`Handle::with`), and
    /// only the first to find it asleep rings.
    fn poke(&mut self) {
        if self.sleeping.take().is_some() {
            self.ring_doorbell = true;
            self.stats.doorbell_rings += 1;
        }
    }

    fn push(&mut self, pending: Pending) {
        self.pending.push(pending);
        self.poke();
    }
    // ANCHOR_END: poke

    /// Refuses new operations from now on; the ring thread drains the rest.
    pub(crate) fn close(&mut self) {
        self.closing = true;
        self.poke();
    }

    fn refuse_if_closed(&self) -> io::Result<()> {
        if self.closing {
            return Err(io::Error::other(
                "the runtime is shutting down: no new io_uring operation is \
                 accepted",
            ));
        }
        Ok(())
    }

    // ANCHOR: submit-or-result
    /// The one way an I/O future talks to the reactor. On its first poll
    /// (`key` is `None`) `make` builds the entries (a linked first one, and
    /// the operation's own), which are queued for the ring thread; `make`
    /// never runs again for this operation. If the in-flight bound is
    /// reached, the operation waits for room instead (`key` stays `None`,
    /// and it is woken when an operation ends). Later polls return the
    /// completion once it has arrived, and otherwise update the waker.
    ///
    /// # Safety
    /// Everything the entries point to must stay valid until the completion
    /// has been returned, or until it is handed to [`Core::park`].
    pub(crate) unsafe fn submit_or_result(
        &mut self,
        key: &mut Option<Key>,
        waker: &Waker,
        make: impl FnOnce() -> (Option<squeue::Entry>, squeue::Entry),
    ) -> io::Result<Poll<Completion>> {
        let Some(k) = *key else {
            self.refuse_if_closed()?;
            if self.slots.in_flight() >= self.limit {
                self.stats.waited_for_room += 1;
                self.room.push(waker.clone());
                return Ok(Poll::Pending);
            }
            let (first, last) = make();
            let k = self.slots.allocate(waker.clone(), first.is_some());
            let entry =
                |e: squeue::Entry, data: UserData| e.user_data(data.encode());
            self.push(match first {
                None => Pending::One(entry(last, UserData::Op(k))),
                Some(first) => Pending::Pair(
                    entry(first, UserData::LinkHead(k)),
                    entry(last, UserData::Op(k)),
                ),
            });
            *key = Some(k);
            return Ok(Poll::Pending);
        };
        match self.slots.state(k) {
            Some(SlotState::Done(completion)) => {
                let completion = *completion;
                self.release(k);
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

    /// Hands a slot back, and lets the operations waiting for room look again.
    /// All of them: one woken alone might have been dropped meanwhile, and
    /// the others would wait for a room that nobody takes.
    fn release(&mut self, key: Key) {
        self.slots.release(key);
        self.woken.append(&mut self.room);
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
        self.refuse_if_closed()?;
        let key = self.slots.allocate_many();
        self.push(Pending::One(entry.user_data(UserData::Op(key).encode())));
        Ok(key)
    }

    /// A multishot operation's next result; `None` once the kernel has
    /// ended it and every result was taken (its slot is then freed).
    pub(crate) fn next_of_many(
        &mut self,
        key: Key,
        waker: &Waker,
    ) -> Poll<Option<i32>> {
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
                    self.release(key);
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
    /// into them. If the ring thread has gone, having given up on that
    /// completion, they are leaked instead.
    pub(crate) fn park(&mut self, key: Key, resources: Box<dyn Parked>) {
        if self.ring_gone && self.slots.is_in_flight(key) {
            log::error!(
                "reactor: operation {key:?} dropped after the ring gave up on \
                 it; leaking its resources"
            );
            std::mem::forget(resources);
            return;
        }
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
                let result = completion.result;
                self.release(key);
                self.abandon(resources, result);
            }
            Some(SlotState::Many { results, ended, .. }) => {
                // The results nobody took go to the operation; then it is
                // parked until its last completion, or over if that came.
                let (results, ended) = (std::mem::take(results), *ended);
                let mut resources = resources;
                let woken = &mut self.woken;
                let keep = AssertUnwindSafe(|| {
                    results
                        .into_iter()
                        .for_each(|r| resources.abandoned_more(r, woken));
                });
                if std::panic::catch_unwind(keep).is_err() {
                    self.stats.abandon_panics += 1;
                }
                if ended {
                    self.release(key);
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
    /// comes either way. Cancels do not count against the in-flight bound:
    /// they are how room is made.
    fn cancel(&mut self, key: Key) {
        self.stats.cancels += 1;
        for target in self.slots.cancel_targets(key) {
            let cancel = opcode::AsyncCancel::new(target.encode())
                .build()
                .user_data(UserData::Cancel(key).encode());
            self.push(Pending::One(cancel));
        }
    }
    // ANCHOR_END: cancel

    /// Cancels every operation the kernel still has (the ring is closing).
    fn cancel_everything(&mut self) {
        for key in self.slots.in_flight_keys() {
            self.cancel(key);
        }
    }

    /// Takes the entries queued for submission.
    fn take_pending(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.pending)
    }

    // ANCHOR: reap
    /// The completions the ring thread reaped, for operations (the ring
    /// thread handles its own reads).
    fn complete_all(&mut self, completed: &[(UserData, i32, bool)]) {
        let mut cancel_missed = Vec::new();
        for &(data, result, more) in completed {
            match data {
                // A cancel that found nothing: the operation completed (its
                // completion is in this batch or was reaped), or it is the
                // second of a linked pair whose first had just finished and
                // which had not started yet. Looked at again below.
                UserData::Cancel(key) if result == -libc::ENOENT => {
                    cancel_missed.push(key);
                }
                UserData::Op(key) if self.slots.is_many(key) => {
                    self.finish_one_of_many(key, result, more);
                }
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
                _ => {}
            }
        }
        // Still parked after the whole batch: the cancel missed an operation
        // that had not started. Once more; it has by now.
        for key in cancel_missed {
            if self.slots.is_parked(key) && self.slots.take_cancel_retry(key) {
                self.cancel(key);
            }
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
                self.release(key);
                self.abandon(resources, completion.result);
            }
            _ => log::debug!("reactor: stale completion for {key:?} ignored"),
        }
    }

    /// One completion of a multishot operation: queued for its future (the
    /// last one, without `MORE`, ends it), or, if the future is gone, handed
    /// to the parked operation: a result to keep, and at the end, the end.
    fn finish_one_of_many(&mut self, key: Key, result: i32, more: bool) {
        let parked = match self.slots.state(key) {
            Some(SlotState::Many {
                results,
                waker,
                ended,
            }) => {
                results.push_back(result);
                self.woken.extend(waker.take());
                if !more {
                    *ended = true;
                    self.slots.many_ended();
                }
                return;
            }
            Some(SlotState::Parked(resources)) if more => {
                let woken = &mut self.woken;
                let keep =
                    AssertUnwindSafe(|| resources.abandoned_more(result, woken));
                if std::panic::catch_unwind(keep).is_err() {
                    self.stats.abandon_panics += 1;
                }
                return;
            }
            Some(SlotState::Parked(_)) => self.slots.complete(
                key,
                Completion {
                    first: None,
                    result,
                },
            ),
            _ => None,
        };
        if let Some(SlotState::Parked(resources)) = parked {
            self.stats.parked_completions += 1;
            self.release(key);
            self.abandon(resources, result);
        }
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

    /// Registers (or, with a new waker, re-registers) a timer. A timer due
    /// before the sleeping ring thread means to wake up wakes it.
    pub(crate) fn set_timer(
        &mut self,
        key: &mut Option<TimerKey>,
        deadline: Instant,
        waker: &Waker,
    ) {
        self.timers.set(key, deadline, waker);
        if let Some(until) = self.sleeping
            && until.is_none_or(|until| deadline < until)
        {
            self.poke();
        }
    }

    /// Forgets a timer.
    pub(crate) fn cancel_timer(&mut self, key: TimerKey) {
        self.timers.cancel(key);
    }
}
