//! The reactor: one ring, a slot table that routes completions to wakers, a
//! timer heap, and an eventfd read kept in flight so that other threads can
//! interrupt the wait.

use crate::ring;
use io_uring::{IoUring, opcode, squeue, types};
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// The `user_data` of the eventfd read and of cancels; slot keys never reach
/// them (a slot index would have to be 2^32 - 1).
const WAKE_READ: u64 = u64::MAX;
const CANCEL: u64 = u64::MAX - 1;

/// What is left of an operation whose future was dropped: its resources, and
/// what to do with its result when the completion finally comes.
pub trait Abandoned {
    fn completed(self: Box<Self>, result: i32);
}

impl std::fmt::Debug for dyn Abandoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<parked operation>")
    }
}

// ANCHOR: key
/// Names one operation: a slot in the table and that slot's generation when
/// the operation started. A slot is reused after its operation is over, with
/// the next generation, so a completion that arrives late (or twice) carries a
/// key that no longer matches and can never wake the slot's next owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    fn user_data(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    fn from_user_data(data: u64) -> Key {
        Key {
            index: data as u32,
            generation: (data >> 32) as u32,
        }
    }
}

#[derive(Debug)]
enum SlotState {
    Free,
    /// Submitted (or queued); the waker to wake on completion.
    InFlight(Option<Waker>),
    /// Completed; the result waits for its future's next poll.
    Done(i32),
    /// Its future was dropped while the kernel still owned its resources
    /// (buffers, fds, addresses): they stay here until the completion comes.
    Parked(Box<dyn Abandoned>),
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    state: SlotState,
    /// For a linked pair of entries: the result of the first one, if the
    /// kernel posted one (it does only when that entry failed).
    first: Option<i32>,
}

/// Marks the `user_data` of the first entry of a linked pair. Generations
/// are kept to 31 bits so that no plain key has this bit set.
const LINK_FLAG: u64 = 1 << 63;
const GENERATION_MASK: u32 = u32::MAX >> 1;
// ANCHOR_END: key

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

pub struct Reactor {
    ring: IoUring,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Entries pushed since the last `io_uring_enter`.
    queued: u64,
    /// Operations the kernel has not completed yet (parked ones included; the
    /// eventfd read not counted).
    in_flight_count: usize,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    timer_wakers: HashMap<u64, Waker>,
    next_timer: u64,
    /// Written by wakers on other threads while the executor sleeps.
    wake_fd: Arc<OwnedFd>,
    /// Where the kernel puts the eventfd's counter; boxed so it never moves.
    wake_buf: Box<u64>,
    /// Set by the executor while it is about to sleep in `io_uring_enter`;
    /// wakers on other threads write the eventfd only then.
    sleeping: Arc<AtomicBool>,
    /// Set while the reactor is being dropped: the wake read is not re-armed.
    closing: bool,
    /// Whether the eventfd read is in flight (the kernel may write `wake_buf`).
    wake_armed: bool,
    stats: Stats,
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

/// Makes `reactor` the current one until the guard is dropped.
pub(crate) fn enter(reactor: Rc<RefCell<Reactor>>) -> impl Drop {
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
    pub(crate) fn new(
        entries: u32,
        sleeping: Arc<AtomicBool>,
    ) -> io::Result<Reactor> {
        let ring = ring::open_tuned(entries)
            .map_err(|e| io::Error::other(e.to_string()))?;
        // SAFETY: eventfd has no pointer arguments; a negative result is an error.
        let fd =
            unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: eventfd returned a new descriptor that nothing else owns.
        let wake_fd = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let mut reactor = Reactor {
            ring,
            slots: Vec::new(),
            free: Vec::new(),
            queued: 0,
            in_flight_count: 0,
            timers: BinaryHeap::new(),
            timer_wakers: HashMap::new(),
            next_timer: 0,
            wake_fd,
            wake_buf: Box::new(0),
            sleeping,
            closing: false,
            wake_armed: false,
            stats: Stats::default(),
        };
        reactor.arm_wake_read()?;
        Ok(reactor)
    }

    pub(crate) fn wake_fd(&self) -> Arc<OwnedFd> {
        Arc::clone(&self.wake_fd)
    }

    pub(crate) fn stats(&self) -> Stats {
        self.stats
    }

    /// Operations whose futures are gone but whose completions are not.
    pub(crate) fn parked(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, SlotState::Parked(_)))
            .count()
    }

    /// Operations started and not yet reaped, parked ones included.
    pub(crate) fn in_flight(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| {
                matches!(s.state, SlotState::InFlight(_) | SlotState::Parked(_))
            })
            .count()
    }

    fn arm_wake_read(&mut self) -> io::Result<()> {
        let entry = opcode::Read::new(
            types::Fd(self.wake_fd.as_raw_fd()),
            (&mut *self.wake_buf as *mut u64).cast::<u8>(),
            8,
        )
        .build()
        .user_data(WAKE_READ);
        // SAFETY: the buffer is a heap allocation owned by the reactor and
        // touched by nothing else; the reactor's `Drop` waits for this read to
        // complete (or leaks the buffer) before the buffer is freed.
        unsafe { self.push(&entry) }?;
        self.wake_armed = true;
        Ok(())
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
        make: impl FnOnce() -> (Option<squeue::Entry>, squeue::Entry),
    ) -> io::Result<Poll<(Option<i32>, i32)>> {
        let Some(k) = *key else {
            let k = self.allocate(waker.clone());
            let pushed = match make() {
                (None, entry) => {
                    let entry = entry.user_data(k.user_data());
                    // SAFETY: passed on from the caller.
                    unsafe { self.push(&entry) }
                }
                (Some(first), entry) => {
                    let first = first.user_data(k.user_data() | LINK_FLAG);
                    let entry = entry.user_data(k.user_data());
                    // SAFETY: passed on from the caller.
                    unsafe { self.push_pair(&first, &entry) }
                }
            };
            if let Err(e) = pushed {
                self.in_flight_count -= 1;
                self.release(k);
                return Err(e);
            }
            *key = Some(k);
            return Ok(Poll::Pending);
        };
        let slot = &mut self.slots[k.index as usize];
        debug_assert_eq!(slot.generation, k.generation, "a key outlived its slot");
        match &mut slot.state {
            SlotState::Done(result) => {
                let done = (slot.first, *result);
                self.release(k);
                *key = None;
                Ok(Poll::Ready(done))
            }
            SlotState::InFlight(stored) => {
                match stored {
                    Some(stored) => stored.clone_from(waker),
                    None => *stored = Some(waker.clone()),
                }
                Ok(Poll::Pending)
            }
            SlotState::Free | SlotState::Parked(_) => Err(io::Error::other(
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
    pub(crate) fn park(&mut self, key: Key, resources: Box<dyn Abandoned>) {
        let slot = &mut self.slots[key.index as usize];
        if slot.generation != key.generation {
            return;
        }
        match slot.state {
            SlotState::InFlight(_) => {
                log::debug!(
                    "reactor: operation {key:?} dropped in flight; parking its resources"
                );
                slot.state = SlotState::Parked(resources);
            }
            // Already complete: the kernel is done with them.
            SlotState::Done(result) => {
                // The kernel is done with them; the result may still hold
                // something to clean up (an accepted socket, say).
                resources.completed(result);
                self.release(key);
            }
            SlotState::Free | SlotState::Parked(_) => {}
        }
    }
    // ANCHOR_END: park

    fn allocate(&mut self, waker: Waker) -> Key {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    state: SlotState::Free,
                    first: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.state = SlotState::InFlight(Some(waker));
        slot.first = None;
        self.in_flight_count += 1;
        Key {
            index,
            generation: slot.generation,
        }
    }

    fn release(&mut self, key: Key) {
        let slot = &mut self.slots[key.index as usize];
        slot.state = SlotState::Free;
        slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
        self.free.push(key.index);
    }

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

    /// Queues two linked entries next to each other: a link only joins an
    /// entry to the one right after it, so they must not be split by a flush.
    ///
    /// # Safety
    /// As for [`Reactor::push`], for both entries.
    unsafe fn push_pair(
        &mut self,
        first: &squeue::Entry,
        second: &squeue::Entry,
    ) -> io::Result<()> {
        let pair = [first.clone(), second.clone()];
        loop {
            // SAFETY: passed on from the caller.
            if unsafe { self.ring.submission().push_multiple(&pair) }.is_ok() {
                self.queued += 2;
                return Ok(());
            }
            self.stats.full_queue_flushes += 1;
            self.enter(false, None)?;
            self.reap();
        }
    }

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
            // Awake again: wakers from other threads need not write the eventfd.
            self.sleeping.store(false, Ordering::SeqCst);
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
        let deadline = self.next_deadline();
        let block = block && deadline.is_none_or(|d| d > Instant::now());
        // Even with nothing to submit and no reason to sleep, enter the kernel
        // while operations are in flight: completions that need this thread's
        // help (task work, such as finishing a pipe read) are run on the way in.
        if block || self.queued > 0 || self.in_flight_count > 0 {
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
        self.fire_timers();
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
            if data == WAKE_READ {
                self.wake_armed = false;
                rearm = true;
                continue;
            }
            if data == CANCEL {
                continue;
            }
            let (key, first, result) = if data & LINK_FLAG != 0 {
                // The first of a linked pair failed (a success posts nothing).
                // Its `CQE_SKIP_SUCCESS` flag also makes the kernel skip the
                // completion of the entry it cancels, which never started: so
                // this is the operation's last completion, and the second
                // entry's resources were never touched.
                let key = Key::from_user_data(data & !LINK_FLAG);
                (key, Some(result), -libc::ECANCELED)
            } else {
                (Key::from_user_data(data), None, result)
            };
            self.finish(key, first, result);
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
    fn finish(&mut self, key: Key, first: Option<i32>, result: i32) {
        let Some(slot) = self.slots.get_mut(key.index as usize) else {
            return;
        };
        if slot.generation != key.generation {
            log::debug!("reactor: stale completion for {key:?} ignored");
            return;
        }
        slot.first = first;
        match std::mem::replace(&mut slot.state, SlotState::Done(result)) {
            SlotState::InFlight(waker) => {
                self.in_flight_count -= 1;
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            SlotState::Parked(resources) => {
                self.in_flight_count -= 1;
                self.stats.parked_completions += 1;
                resources.completed(result);
                self.release(key);
            }
            other => slot.state = other,
        }
    }
    // ANCHOR_END: reap

    // ANCHOR: timers
    /// Registers (or re-registers, with a new waker) a timer.
    pub(crate) fn set_timer(
        &mut self,
        id: &mut Option<u64>,
        deadline: Instant,
        waker: &Waker,
    ) {
        match id {
            Some(id) => {
                if let Some(stored) = self.timer_wakers.get_mut(id) {
                    stored.clone_from(waker);
                }
            }
            None => {
                let new = self.next_timer;
                self.next_timer += 1;
                self.timers.push(Reverse((deadline, new)));
                self.timer_wakers.insert(new, waker.clone());
                *id = Some(new);
            }
        }
    }

    /// Forgets a timer; its heap entry is skipped when it comes up.
    pub(crate) fn cancel_timer(&mut self, id: u64) {
        self.timer_wakers.remove(&id);
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, id))) = self.timers.peek() {
            if self.timer_wakers.contains_key(id) {
                return Some(*deadline);
            }
            self.timers.pop(); // cancelled
        }
        None
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((deadline, id))) = self.timers.peek().copied() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            if let Some(waker) = self.timer_wakers.remove(&id) {
                waker.wake();
            }
        }
    }
    // ANCHOR_END: timers
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
        let mut targets: Vec<u64> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                matches!(s.state, SlotState::InFlight(_) | SlotState::Parked(_))
            })
            .map(|(i, s)| {
                Key {
                    index: i as u32,
                    generation: s.generation,
                }
                .user_data()
            })
            .collect();
        targets.push(WAKE_READ);
        for target in &targets {
            let cancel =
                opcode::AsyncCancel::new(*target).build().user_data(CANCEL);
            // SAFETY: a cancel entry points to nothing.
            if unsafe { self.push(&cancel) }.is_err() {
                break;
            }
        }
        let started = Instant::now();
        let give_up = started + Duration::from_secs(5);
        while (self.in_flight() > 0 || self.wake_armed) && Instant::now() < give_up
        {
            if self.enter(true, Some(give_up)).is_err() {
                break;
            }
            self.reap();
        }
        for slot in &mut self.slots {
            if let SlotState::Parked(resources) =
                std::mem::replace(&mut slot.state, SlotState::Free)
            {
                log::error!(
                    "reactor: an operation never completed; leaking its resources"
                );
                std::mem::forget(resources);
            }
        }
        if self.wake_armed {
            // Its cancel never completed: leak the buffer rather than free it
            // under the kernel.
            std::mem::forget(std::mem::replace(&mut self.wake_buf, Box::new(0)));
        }
    }
}
// ANCHOR_END: drop

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
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
        let mut reactor = Reactor::new(8, Arc::default()).unwrap();
        let (first, first_waker) = counting_waker();
        let old = reactor.allocate(first_waker);
        reactor.in_flight_count -= 1; // pretend it completed...
        reactor.release(old); // ...and its slot was handed back
        let (second, second_waker) = counting_waker();
        let new = reactor.allocate(second_waker);
        assert_eq!(new.index, old.index, "the slot is reused");
        assert_ne!(new.generation, old.generation, "with a new generation");
        // A completion carrying the old key arrives (a duplicate, or one
        // that raced with the slot's release): it must wake nobody.
        let stale = opcode::Nop::new().build().user_data(old.user_data());
        // SAFETY: a NOP points to nothing.
        unsafe { reactor.push(&stale) }.unwrap();
        reactor.turn(true).unwrap();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 0);
        assert!(matches!(
            reactor.slots[new.index as usize].state,
            SlotState::InFlight(_)
        ));
        // The real completion for the new key does wake its owner.
        let real = opcode::Nop::new().build().user_data(new.user_data());
        // SAFETY: a NOP points to nothing.
        unsafe { reactor.push(&real) }.unwrap();
        reactor.turn(true).unwrap();
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn keys_round_trip_through_user_data() {
        for (index, generation) in [(0, 0), (7, 3), (u32::MAX - 2, u32::MAX)] {
            let key = Key { index, generation };
            assert_eq!(Key::from_user_data(key.user_data()), key);
            assert!(key.user_data() < CANCEL);
        }
    }
}
