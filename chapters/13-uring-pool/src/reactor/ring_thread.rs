//! The ring thread: the only thread that touches the ring. It opens it (so
//! it is the ring's single issuer), submits what workers queued in the core,
//! sleeps in `io_uring_enter` when there is nothing to do, reaps completions
//! into the core, fires timers, reads the signalfd, and, when the pool goes,
//! cancels and drains everything before the ring is closed.

use super::doorbell::StandingRead;
use super::handle::Shared;
use super::slots::UserData;
use super::{Core, Handle, Pending, Stats};
use crate::ring;
use io_uring::{IoUring, cqueue, opcode, squeue, types};
use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the ring thread does with each signal number the signalfd gives.
pub(crate) type OnSignal = Box<dyn FnMut(u32) + Send>;

/// What the ring thread is started with.
pub(crate) struct RingConfig {
    /// Submission queue entries (see [`super::ENTRIES`]).
    pub entries: u32,
    /// The most operations in flight at once.
    pub limit: usize,
    /// Open the ring without `SINGLE_ISSUER` and `COOP_TASKRUN` (to measure
    /// what they are worth).
    pub plain: bool,
    /// A signalfd to keep a read on, and what to do with each signal number.
    pub signals: Option<(OwnedFd, OnSignal)>,
}

impl std::fmt::Debug for RingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingConfig")
            .field("entries", &self.entries)
            .field("limit", &self.limit)
            .field("plain", &self.plain)
            .field("signals", &self.signals.is_some())
            .finish()
    }
}

/// The size of a `struct signalfd_siginfo`, what one signalfd read returns.
const SIGINFO: usize = 128;

struct RingThread {
    ring: IoUring,
    shared: Arc<Shared>,
    wake_read: StandingRead,
    signals: Option<(OwnedFd, OnSignal)>,
    signal_read: StandingRead,
    /// Entries pushed since the last `io_uring_enter`.
    queued: u64,
    /// Counters kept here between two visits to the core.
    stats: Stats,
}

// ANCHOR: start
/// Starts the ring thread and returns the handle every operation will use.
/// The ring is opened on the new thread, so that it is the ring's single
/// issuer; an error opening it comes back here.
pub(crate) fn start(
    config: RingConfig,
) -> io::Result<(Handle, std::thread::JoinHandle<()>, libc::pid_t)> {
    if !super::ENTRIES.contains(&config.entries) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a ring of {} entries: the runtime needs {} to {} (a linked \
                 write and read go to the kernel together)",
                config.entries,
                super::ENTRIES.start(),
                super::ENTRIES.end()
            ),
        ));
    }
    let shared = Arc::new(Shared::new(Core::new(config.limit.max(1)))?);
    let for_thread = Arc::clone(&shared);
    let (opened, result) = mpsc::channel();
    let thread =
        std::thread::Builder::new()
            .name("uring".into())
            .spawn(move || {
                // Wakers run here too; one that asks its pool something finds it.
                let _current = Handle::from_shared(Arc::clone(&for_thread)).enter();
                let ring = if config.plain {
                    ring::open(config.entries)
                } else {
                    ring::open_tuned(config.entries)
                };
                let ring = match ring {
                    Ok(ring) => ring,
                    Err(e) => {
                        let _ = opened.send(Err(io::Error::other(e.to_string())));
                        return;
                    }
                };
                let mut thread = RingThread {
                    ring,
                    shared: for_thread,
                    wake_read: StandingRead::new(8),
                    signals: config.signals,
                    signal_read: StandingRead::new(SIGINFO),
                    queued: 0,
                    stats: Stats::default(),
                };
                if let Err(e) = thread.arm_wake_read().and(thread.arm_signal_read())
                {
                    let _ = opened.send(Err(e));
                    return;
                }
                // SAFETY: gettid has no preconditions.
                let _ = opened.send(Ok(unsafe { libc::gettid() }));
                thread.run();
            })?;
    match result.recv() {
        Ok(Ok(tid)) => Ok((Handle::from_shared(shared), thread, tid)),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => Err(io::Error::other("the ring thread died while starting")),
    }
}
// ANCHOR_END: start

impl RingThread {
    fn arm_wake_read(&mut self) -> io::Result<()> {
        let entry = self
            .wake_read
            .arm(self.shared.doorbell())
            .user_data(UserData::WakeRead.encode());
        // SAFETY: the read's buffer is a heap allocation owned by this thread
        // and touched by nothing else; `drain` waits for this read to
        // complete (or leaks the buffer) before the buffer is freed.
        unsafe { self.push_all(&[entry]) }
    }

    fn arm_signal_read(&mut self) -> io::Result<()> {
        let Some((fd, _)) = &self.signals else {
            return Ok(());
        };
        let entry = self
            .signal_read
            .arm(fd)
            .user_data(UserData::SignalRead.encode());
        // SAFETY: as for the wake read: the buffer is this thread's, and is
        // freed only after the read's completion (or leaked).
        unsafe { self.push_all(&[entry]) }
    }

    // ANCHOR: loop
    fn run(mut self) {
        loop {
            // One look at the core decides the turn: take the queued entries
            // and due timers, and, if there is nothing at all to do, say so
            // in the same critical section (arm), so that a worker queuing
            // work from now on finds `sleeping` set and rings the doorbell.
            let (batch, block, deadline, closing) = {
                let mut core = self.shared.lock();
                let now = Instant::now();
                let core = &mut *core;
                core.timers.fire_due(now, &mut core.woken);
                let batch = core.take_pending();
                let deadline = core.timers.next_deadline();
                let block = batch.is_empty()
                    && core.woken.is_empty()
                    && !core.closing
                    && self.ring.completion().is_empty()
                    && deadline.is_none_or(|d| d > now);
                if block {
                    core.sleeping = Some(deadline);
                    core.stats.ring_sleeps += 1;
                }
                (batch, block, deadline, core.closing)
            };
            self.shared.wake_finished();
            if let Err(e) = self.submit(batch) {
                log::error!("uring: cannot queue entries: {e}");
            }
            if closing {
                break;
            }
            if block {
                let next =
                    deadline.map(|d| d.saturating_duration_since(Instant::now()));
                log::debug!(
                    "uring: nothing to do; sleeping (next timer in {next:?})"
                );
            }
            if let Err(e) = self.enter(block, deadline) {
                log::error!("uring: io_uring_enter failed: {e}");
            }
            if block {
                self.shared.lock().sleeping = None;
            }
            self.reap();
        }
        if self.drain() {
            // The kernel may still write where the ring's own memory and the
            // leaked buffers are: the ring must stay open, and is never freed.
            std::mem::forget(self.ring);
        }
    }
    // ANCHOR_END: loop

    /// Pushes the entries workers queued, in order, linked pairs together.
    fn submit(&mut self, batch: Vec<Pending>) -> io::Result<()> {
        if !batch.is_empty() {
            log::debug!("uring: submitting {} queued by workers", batch.len());
        }
        for pending in batch {
            // SAFETY: each entry was built by an operation under the contract
            // of `Core::submit_or_result`: what it points to stays valid (in
            // its future, or parked in the core) until its completion, which
            // this thread reaps before anything is freed.
            unsafe {
                match pending {
                    Pending::One(entry) => self.push_all(&[entry])?,
                    Pending::Pair(first, second) => {
                        self.push_all(&[first, second])?;
                    }
                }
            }
        }
        Ok(())
    }

    // ANCHOR: push
    /// Queues entries next to each other. A full submission queue is flushed
    /// to the kernel and the push retried: backpressure, never a failure.
    ///
    /// # Safety
    /// As for `io_uring::SubmissionQueue::push`: the entries' pointers must
    /// stay valid until their completions.
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
    /// until a completion arrives or `deadline` passes. Even with nothing to
    /// submit, entering runs the completion work the kernel keeps for this
    /// thread (`COOP_TASKRUN`) and fetches completions that overflowed.
    fn enter(&mut self, wait: bool, deadline: Option<Instant>) -> io::Result<()> {
        let overflowed = self.ring.submission().cq_overflow();
        if overflowed {
            self.stats.cq_overflows += 1;
        }
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
                // A signal arrived while we waited: wait again. Workers that
                // queued work meanwhile rang the doorbell, whose read ends it.
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {
                    self.stats.interrupted += 1;
                }
                other => break other,
            }
        };
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
            // the caller reaps next.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
            Err(e) => Err(e),
        }
    }
    // ANCHOR_END: enter

    // ANCHOR: reap
    /// Takes every completion off the ring; the ring thread's own reads are
    /// handled here, the rest go to the core in one visit, and the wakers
    /// they free are called after it.
    fn reap(&mut self) {
        let mut operations = Vec::new();
        let (mut rearm_wake, mut rearm_signal, mut signals) =
            (false, false, vec![]);
        let completed: Vec<(u64, i32, bool)> = self
            .ring
            .completion()
            .map(|c| (c.user_data(), c.result(), cqueue::more(c.flags())))
            .collect();
        self.stats.completions += completed.len() as u64;
        for (data, result, more) in completed {
            match UserData::decode(data) {
                UserData::WakeRead => {
                    log::debug!("uring: woken by the doorbell");
                    self.wake_read.armed = false;
                    rearm_wake = true;
                }
                UserData::SignalRead => {
                    self.signal_read.armed = false;
                    rearm_signal = true;
                    if let Some(signo) = signal_number(&self.signal_read, result) {
                        signals.push(signo);
                    }
                }
                UserData::WakeReadCancel | UserData::SignalReadCancel => {}
                data => operations.push((data, result, more)),
            }
        }
        let stats = std::mem::take(&mut self.stats);
        self.shared.with(|core| {
            merge(&mut core.stats, stats);
            core.complete_all(&operations);
        });
        if let Some((_, on_signal)) = &mut self.signals {
            signals.into_iter().for_each(on_signal);
        }
        let closing = self.shared.lock().closing;
        if rearm_wake
            && !closing
            && let Err(e) = self.arm_wake_read()
        {
            log::error!("uring: cannot re-arm the doorbell read: {e}");
        }
        if rearm_signal
            && !closing
            && let Err(e) = self.arm_signal_read()
        {
            log::error!("uring: cannot re-arm the signalfd read: {e}");
        }
    }
    // ANCHOR_END: reap

    // ANCHOR: drain
    /// The pool is going: every operation still in flight is cancelled, both
    /// entries of a linked pair included, and so are the ring thread's own
    /// reads; their completions are awaited, with cancels sent again now and
    /// then, for at most five seconds. What never completes is leaked, ring
    /// and all, never freed under the kernel's feet: `true` if so.
    fn drain(&mut self) -> bool {
        let give_up = Instant::now() + Duration::from_secs(5);
        let mut next_cancel = Instant::now();
        loop {
            let now = Instant::now();
            let (batch, in_flight) = {
                let mut core = self.shared.lock();
                if now >= next_cancel {
                    core.cancel_everything();
                }
                (core.take_pending(), core.in_flight())
            };
            let own = self.wake_read.armed || self.signal_read.armed;
            if (in_flight == 0 && !own) || now >= give_up {
                break;
            }
            if now >= next_cancel {
                self.cancel_own_reads();
                next_cancel = now + Duration::from_millis(100);
            }
            if self.submit(batch).is_err()
                || self.enter(true, Some(next_cancel.min(give_up))).is_err()
            {
                break;
            }
            self.reap();
        }
        let mut core = self.shared.lock();
        core.ring_gone = true;
        let left = core.in_flight();
        let leak = left > 0 || self.wake_read.armed || self.signal_read.armed;
        if leak {
            log::error!(
                "uring: {left} operations never completed; leaking them and the ring"
            );
            core.slots
                .take_parked()
                .into_iter()
                .for_each(std::mem::forget);
            self.wake_read.leak_if_armed();
            self.signal_read.leak_if_armed();
        }
        leak
    }

    fn cancel_own_reads(&mut self) {
        let mut cancels = Vec::new();
        if self.wake_read.armed {
            cancels.push(
                opcode::AsyncCancel::new(UserData::WakeRead.encode())
                    .build()
                    .user_data(UserData::WakeReadCancel.encode()),
            );
        }
        if self.signal_read.armed {
            cancels.push(
                opcode::AsyncCancel::new(UserData::SignalRead.encode())
                    .build()
                    .user_data(UserData::SignalReadCancel.encode()),
            );
        }
        for cancel in cancels {
            // SAFETY: a cancel entry points to nothing.
            if let Err(e) = unsafe { self.push_all(&[cancel]) } {
                log::error!("uring: cannot cancel a standing read: {e}");
            }
        }
    }
    // ANCHOR_END: drain
}

/// The signal a completed signalfd read of `result` bytes reported.
fn signal_number(read: &StandingRead, result: i32) -> Option<u32> {
    let n = usize::try_from(result).ok()?;
    let bytes: [u8; 4] = read.bytes(n).get(..4)?.try_into().ok()?;
    Some(u32::from_ne_bytes(bytes))
}

/// Adds the ring thread's counters to the core's.
fn merge(into: &mut Stats, from: Stats) {
    into.enters += from.enters;
    into.largest_batch = into.largest_batch.max(from.largest_batch);
    into.completions += from.completions;
    into.interrupted += from.interrupted;
    into.full_queue_flushes += from.full_queue_flushes;
    into.cq_overflows += from.cq_overflows;
}
