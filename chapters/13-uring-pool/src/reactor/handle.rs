//! A reactor, shared between threads: what the pool, every operation and
//! every timer hold, and the one a pool's threads have made current.

use super::{Core, Doorbell, Key, Parked, TimerKey};
use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// The core under its lock, and the doorbell of the ring thread.
#[derive(Debug)]
pub(crate) struct Shared {
    core: Mutex<Core>,
    doorbell: Doorbell,
}

impl Shared {
    pub(super) fn new(core: Core) -> io::Result<Shared> {
        Ok(Shared {
            core: Mutex::new(core),
            doorbell: Doorbell::new()?,
        })
    }

    pub(super) fn doorbell(&self) -> &Doorbell {
        &self.doorbell
    }

    /// The core. A panic while it was held (the core catches those of
    /// operations' code, so this would be the runtime's own bug) does not
    /// stop the others: the core's state is updated before anything that
    /// could panic.
    pub(super) fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the core; then, with the lock let go, rings the
    /// doorbell if `f` found the ring thread asleep and queued work for it,
    /// and calls the wakers of what `f` finished.
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        let (result, woken, ring) = {
            let mut core = self.lock();
            let result = f(&mut core);
            let ring = std::mem::take(&mut core.ring_doorbell);
            (result, std::mem::take(&mut core.woken), ring)
        };
        if ring {
            self.doorbell.ring();
        }
        woken.into_iter().for_each(Waker::wake);
        result
    }

    /// Calls the wakers of what finished (see `with`).
    pub(super) fn wake_finished(&self) {
        self.with(|_| ());
    }
}

// ANCHOR: handle
/// A reactor, shared: the pool holds one, and so does every operation and
/// timer from its first poll on, so that each always goes back to the
/// reactor that started it, from whichever thread it is polled or dropped.
/// A handle keeps the core (and what is parked in it) alive; the ring thread
/// has one too, until it has drained the ring.
#[derive(Clone, Debug)]
pub struct Handle(Arc<Shared>);

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

impl Handle {
    pub(super) fn from_shared(shared: Arc<Shared>) -> Handle {
        Handle(shared)
    }

    /// The reactor of the pool this thread belongs to (a worker, or a
    /// thread inside `block_on`), if it does.
    pub fn current() -> Option<Handle> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// Runs `f` with the core, then, with the lock let go, rings the
    /// doorbell if `f` queued work for a sleeping ring thread, and calls the
    /// wakers of what `f` finished.
    pub fn with<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        self.0.with(f)
    }

    /// Parks a dropped operation's resources in this reactor (see
    /// [`Core::park`]).
    pub(crate) fn park(&self, key: Key, resources: Box<dyn Parked>) {
        self.with(|core| core.park(key, resources));
    }

    /// Forgets a timer.
    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        self.with(|core| core.cancel_timer(key));
    }

    /// Makes this reactor the thread's current one until the guard is
    /// dropped (for the pool's threads).
    pub(crate) fn enter(&self) -> ReactorGuard {
        ReactorGuard(CURRENT.with(|current| current.replace(Some(self.clone()))))
    }
}

/// Puts back the thread's previous reactor when dropped.
#[derive(Debug)]
pub(crate) struct ReactorGuard(Option<Handle>);

impl Drop for ReactorGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Runs `f` with the core of the pool this thread belongs to.
///
/// # Panics
/// If this thread belongs to no pool.
pub fn with<R>(f: impl FnOnce(&mut Core) -> R) -> R {
    let reactor = Handle::current().unwrap_or_else(|| {
        panic!(
            "no io_uring pool runs on this thread: call this from a task, or \
             inside Pool::block_on"
        )
    });
    reactor.with(f)
}
// ANCHOR_END: handle
