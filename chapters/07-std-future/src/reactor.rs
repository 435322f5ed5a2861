//! The reactor: a thread of its own that sleeps in `mio::Poll` and, when the
//! kernel reports an event, wakes the future waiting for it.

use mio::{Events, Interest, Poll, Registry, Token, event::Source};
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Waker;
use std::thread;

// ANCHOR: reactor
/// Registrations and the wakers waiting for them. The event loop thread owns
/// the `mio::Poll`; this is the part the futures share with it.
#[derive(Debug)]
pub struct Reactor {
    registry: Registry,
    /// Registration id (the mio token) to the waker of the future waiting on it.
    wakers: Mutex<HashMap<usize, Waker>>,
    /// The next id: ids only ever increase, so one is never reused.
    next_id: AtomicUsize,
}

/// The reactor, started on first use.
pub fn reactor() -> &'static Reactor {
    static REACTOR: OnceLock<Reactor> = OnceLock::new();
    REACTOR.get_or_init(|| match Reactor::start() {
        Ok(reactor) => reactor,
        // Without a reactor nothing can wait: there is no way to carry on.
        Err(e) => panic!("cannot start the reactor (mio::Poll failed): {e}"),
    })
}

impl Reactor {
    fn start() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        thread::Builder::new()
            .name("reactor".into())
            .spawn(move || event_loop(poll))?;
        Ok(Reactor {
            registry,
            wakers: Mutex::new(HashMap::new()),
            next_id: AtomicUsize::new(0),
        })
    }

    fn wakers(&self) -> MutexGuard<'_, HashMap<usize, Waker>> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `source` for `interest`, with `waker` to wake on its events.
    /// The waker is stored before the registration, so no event can find the
    /// id without one.
    pub fn register(
        &self,
        source: &mut impl Source,
        interest: Interest,
        waker: &Waker,
    ) -> io::Result<usize> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.wakers().insert(id, waker.clone());
        if let Err(e) = self.registry.register(source, Token(id), interest) {
            self.wakers().remove(&id);
            return Err(e);
        }
        log::debug!("reactor: registered id {id} for {interest:?}");
        Ok(id)
    }

    /// Replaces the waker for `id`: the future may have been polled with a
    /// different one since it registered (`clone_from` skips the work when it
    /// is the same waker).
    pub fn set_waker(&self, id: usize, waker: &Waker) {
        if let Some(stored) = self.wakers().get_mut(&id) {
            stored.clone_from(waker);
        }
    }

    /// Stops the events for `source` and forgets its waker.
    pub fn deregister(
        &self,
        source: &mut impl Source,
        id: usize,
    ) -> io::Result<()> {
        self.wakers().remove(&id);
        log::debug!("reactor: deregistered id {id}");
        self.registry.deregister(source)
    }

    /// How many registrations are live (for tests).
    pub fn registered(&self) -> usize {
        self.wakers().len()
    }
}

fn event_loop(mut poll: Poll) {
    let mut events = Events::with_capacity(256);
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            log::error!("reactor: mio::Poll failed, no more events: {e}");
            return;
        }
        for event in &events {
            let id = event.token().0;
            // Clone the waker and wake it after letting go of the lock.
            let waker = reactor().wakers().get(&id).cloned();
            match waker {
                Some(waker) => {
                    log::debug!("reactor: event for id {id}, waking its future");
                    waker.wake();
                }
                None => {
                    log::debug!("reactor: event for id {id}, no longer registered")
                }
            }
        }
    }
}
// ANCHOR_END: reactor
