//! A runtime that sleeps until the operating system reports that a socket is
//! ready, instead of polling in a loop.

use crate::future::{Future, PollState};
use mio::{Events, Interest, Poll, Registry, Token, event::Source};
use std::cell::{Cell, RefCell};
use std::io;

thread_local! {
    /// The registry of the runtime running on this thread, if any: futures
    /// use it to tell the operating system what they are waiting for.
    static REGISTRY: RefCell<Option<Registry>> = const { RefCell::new(None) };
    /// Tokens handed out on this thread; never reused.
    static NEXT_TOKEN: Cell<usize> = const { Cell::new(0) };
}

// ANCHOR: register
/// Registers `source` with the runtime running on this thread, for `interest`,
/// under a new token. Readiness for it will wake the runtime up.
pub fn register(source: &mut impl Source, interest: Interest) -> io::Result<Token> {
    let token = Token(NEXT_TOKEN.with(|n| n.replace(n.get() + 1)));
    with_registry(|registry| registry.register(source, token, interest))??;
    log::debug!("registered {token:?} for {interest:?}");
    Ok(token)
}

/// Stops reporting readiness for `source` (when its future is dropped).
pub fn deregister(source: &mut impl Source) -> io::Result<()> {
    with_registry(|registry| registry.deregister(source))?
}

fn with_registry<R>(f: impl FnOnce(&Registry) -> R) -> io::Result<R> {
    REGISTRY.with(|r| match r.borrow().as_ref() {
        Some(registry) => Ok(f(registry)),
        None => Err(io::Error::other(
            "no runtime is running on this thread: poll this future inside Runtime::block_on",
        )),
    })
}
// ANCHOR_END: register

// ANCHOR: runtime
/// What [`Runtime::block_on`] hands back.
#[derive(Debug)]
pub struct Finished<T> {
    pub output: T,
    /// How many times the future was polled.
    pub polls: u64,
    /// How many times the runtime woke up from `mio::Poll::poll`.
    pub wakeups: u64,
}

/// Owns the `mio::Poll` that the thread sleeps in.
#[derive(Debug)]
pub struct Runtime {
    pub(crate) poll: Poll,
}

impl Runtime {
    pub fn new() -> io::Result<Self> {
        Ok(Runtime { poll: Poll::new()? })
    }

    /// Polls `future` once, then again each time the operating system reports
    /// readiness for something a future registered, until it is ready.
    pub fn block_on<F: Future>(
        &mut self,
        mut future: F,
    ) -> io::Result<Finished<F::Output>> {
        let _current = self.make_current()?;
        let mut events = Events::with_capacity(64);
        let (mut polls, mut wakeups) = (0, 0);
        loop {
            polls += 1;
            if let PollState::Ready(output) = future.poll() {
                return Ok(Finished {
                    output,
                    polls,
                    wakeups,
                });
            }
            // Sleep until something registered is ready. No timeout: a
            // future that returns NotReady must have registered interest in
            // something, or nothing will ever wake us.
            loop {
                match self.poll.poll(&mut events, None) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            wakeups += 1;
            log::debug!("woke up with {} event(s)", events.iter().count());
        }
    }
}
// ANCHOR_END: runtime

impl Runtime {
    /// Makes this runtime's registry the one futures on this thread use, until
    /// the returned guard is dropped.
    pub(crate) fn make_current(&self) -> io::Result<Restore> {
        let registry = self.poll.registry().try_clone()?;
        Ok(Restore(REGISTRY.with(|r| r.replace(Some(registry)))))
    }
}

/// Puts back the registry that was current before (none, usually).
pub(crate) struct Restore(Option<Registry>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        REGISTRY.with(|r| *r.borrow_mut() = previous);
    }
}
