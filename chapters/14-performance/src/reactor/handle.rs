//! A reactor, shared: what the runtime, every operation and every timer
//! hold, and the one the thread's running runtime has made current.

use super::{Key, Parked, Reactor, TimerKey};
use std::cell::RefCell;
use std::io;
use std::rc::Rc;

// ANCHOR: handle
/// A reactor, shared: the runtime holds one, and so does every operation and
/// timer from its first poll on, so that each always goes back to the reactor
/// that started it, whichever runtime is running (or none) when it is polled
/// again or dropped. An operation's handle keeps the reactor, and with it the
/// ring, alive: a reactor is never dropped while something it started exists.
#[derive(Clone)]
pub struct Handle(Rc<RefCell<Reactor>>);

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.try_borrow() {
            Ok(reactor) => reactor.fmt(f),
            Err(_) => f.write_str("Reactor { <in use> }"),
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

impl Handle {
    pub(crate) fn new(reactor: Reactor) -> Handle {
        Handle(Rc::new(RefCell::new(reactor)))
    }

    /// The reactor of the runtime running on this thread, if one is.
    pub fn current() -> Option<Handle> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// Whether this is the reactor of the runtime running on this thread.
    pub fn is_current(&self) -> bool {
        CURRENT.with(|current| {
            current
                .borrow()
                .as_ref()
                .is_some_and(|c| Rc::ptr_eq(&c.0, &self.0))
        })
    }

    /// Runs `f` with the reactor.
    ///
    /// # Panics
    /// If the reactor is already in use: the runtime never calls back into
    /// code that could get here while it holds it.
    pub fn with<R>(&self, f: impl FnOnce(&mut Reactor) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }

    /// Parks a dropped operation's resources in this reactor (see
    /// [`Reactor::park`]). If the reactor is in use right now (the drop runs
    /// inside it: the resources parked by another operation held this one),
    /// the kernel may still own them, so they are leaked, never freed.
    pub(crate) fn park(&self, key: Key, resources: Box<dyn Parked>) {
        match self.0.try_borrow_mut() {
            Ok(mut reactor) => reactor.park(key, resources),
            Err(_) => {
                log::error!(
                    "reactor: operation {key:?} dropped while its reactor was \
                     busy; leaking its resources"
                );
                std::mem::forget(resources);
            }
        }
    }

    /// Forgets a timer, unless the reactor is in use right now (then it
    /// stays until its deadline, when it wakes a waker nobody listens to).
    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        if let Ok(mut reactor) = self.0.try_borrow_mut() {
            reactor.timers.cancel(key);
        }
    }

    /// Makes this reactor the thread's current one until the guard is
    /// dropped. A runtime already running here is refused: a nested
    /// `block_on` would stop the outer one's tasks until it returned, and
    /// their operations would complete in a ring nobody reaps.
    pub(crate) fn enter(&self) -> io::Result<impl Drop> {
        struct Guard;
        impl Drop for Guard {
            fn drop(&mut self) {
                CURRENT.with(|c| *c.borrow_mut() = None);
            }
        }
        CURRENT.with(|current| {
            let mut current = current.borrow_mut();
            if current.is_some() {
                return Err(io::Error::other(
                    "block_on called from inside a running runtime: a runtime \
                     cannot start inside another on the same thread. Use \
                     spawn() and await the JoinHandle instead, or call \
                     block_on from another thread.",
                ));
            }
            *current = Some(self.clone());
            Ok(Guard)
        })
    }
}

/// Runs `f` with the reactor of the runtime running on this thread.
///
/// # Panics
/// If no runtime runs here.
pub fn with<R>(f: impl FnOnce(&mut Reactor) -> R) -> R {
    let reactor = Handle::current()
        .unwrap_or_else(|| panic!("no io_uring runtime is running on this thread: call this inside Runtime::block_on"));
    reactor.with(f)
}
// ANCHOR_END: handle
