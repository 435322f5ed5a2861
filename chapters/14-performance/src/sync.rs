//! Tools for tasks to coordinate: an `Event` backed by an eventfd, which any
//! thread can signal, and an async `Mutex` for tasks on one executor.

use crate::op::{Op, Operation, Read};
use crate::sys;
use io_uring::squeue;
use std::cell::{RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::ops::{Deref, DerefMut};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

// ANCHOR: event
/// A signal that tasks wait for and anyone (any thread) can send. It is an
/// eventfd: `notify` adds one to its counter, and `wait` is an io_uring read
/// of it, which completes once the counter is non-zero and takes all of it.
#[derive(Debug)]
pub struct Event {
    fd: Rc<OwnedFd>,
    notifier: Notifier,
}

/// The sending side of an [`Event`]: `Send`, `Sync` and cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifier(Arc<OwnedFd>);

impl Event {
    /// A new event, not notified yet.
    pub fn new() -> io::Result<Event> {
        let fd = sys::eventfd(0)?;
        let shared = Arc::new(fd.try_clone()?);
        Ok(Event {
            fd: Rc::new(fd),
            notifier: Notifier(shared),
        })
    }

    /// A handle that notifies this event, from any thread.
    pub fn notifier(&self) -> Notifier {
        self.notifier.clone()
    }

    /// Waits until notified; returns how many notifications it took. If
    /// the wait is dropped after its read took the count, the count goes
    /// back into the eventfd: no notification is lost with it.
    pub async fn wait(&self) -> io::Result<u64> {
        let op = Op::new(EventWait(Read {
            fd: Rc::clone(&self.fd),
            buf: Vec::with_capacity(8),
        }));
        let (read, buf) = op.await?;
        read?;
        count_of(&buf)
    }
}

/// The eventfd read of `Event::wait`.
struct EventWait(Read);

impl Operation for EventWait {
    type Output = (io::Result<usize>, Vec<u8>);
    fn entry(&mut self) -> squeue::Entry {
        self.0.entry()
    }
    fn complete(self, result: i32) -> Self::Output {
        self.0.complete(result)
    }
    /// The read took notifications nobody will see: give them back.
    fn abandoned(self, result: i32, _: &mut Vec<Waker>) {
        let fd = Rc::clone(&self.0.fd);
        if let (Ok(_), buf) = self.0.complete(result)
            && let Ok(count) = count_of(&buf)
            && let Err(e) = sys::eventfd_add(&fd, count)
        {
            log::error!("event: cannot give back {count} notifications: {e}");
        }
    }
}

/// The counter an eventfd read returned.
fn count_of(buf: &[u8]) -> io::Result<u64> {
    let bytes: [u8; 8] = buf.try_into().map_err(|_| {
        io::Error::other("an eventfd read returned other than 8 bytes")
    })?;
    Ok(u64::from_ne_bytes(bytes))
}

impl Notifier {
    /// Wakes the event's waiter (or the next one to wait).
    pub fn notify(&self) -> io::Result<()> {
        sys::eventfd_add_one(&self.0)
    }
}
// ANCHOR_END: event

// ANCHOR: mutex
/// An async mutex for the tasks of one executor. `lock` waits without
/// blocking the thread. It is fair: the lock is handed to the task that has
/// waited longest, in the order `lock` was first polled, and no newcomer can
/// take it in between.
#[derive(Debug)]
pub struct Mutex<T> {
    state: RefCell<State>,
    value: RefCell<T>,
}

#[derive(Debug, Default)]
struct State {
    locked: bool,
    next_ticket: u64,
    /// Waiting `lock` futures, oldest first.
    waiters: VecDeque<(u64, Option<Waker>)>,
    /// A ticket the lock has been handed to, not yet picked up.
    granted: Option<u64>,
}

impl<T> Mutex<T> {
    /// A mutex holding `value`, unlocked.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: RefCell::default(),
            value: RefCell::new(value),
        }
    }

    /// Waits for the lock; waiters get it in the order they asked.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            ticket: None,
        }
    }

    /// Gives the lock to the next waiter, or frees it if none waits.
    fn release(&self) {
        let mut state = self.state.borrow_mut();
        match state.waiters.pop_front() {
            Some((ticket, waker)) => {
                state.granted = Some(ticket); // still locked: handed over
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            None => state.locked = false,
        }
    }
}

/// The future `lock` returns.
#[derive(Debug)]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    ticket: Option<u64>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        let mut state = mutex.state.borrow_mut();
        match self.ticket {
            None if !state.locked && state.waiters.is_empty() => {
                state.locked = true;
                return Poll::Ready(MutexGuard::new(mutex));
            }
            None => {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.waiters.push_back((ticket, Some(cx.waker().clone())));
                drop(state);
                self.ticket = Some(ticket);
            }
            Some(ticket) if state.granted == Some(ticket) => {
                state.granted = None;
                drop(state);
                self.ticket = None;
                return Poll::Ready(MutexGuard::new(mutex));
            }
            Some(ticket) => {
                if let Some(entry) =
                    state.waiters.iter_mut().find(|(t, _)| *t == ticket)
                {
                    entry.1 = Some(cx.waker().clone());
                }
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for Lock<'_, T> {
    /// A `lock` future dropped while waiting leaves the queue; if the lock had
    /// already been handed to it, it passes the lock on, so an unlock is never
    /// lost with it.
    fn drop(&mut self) {
        let Some(ticket) = self.ticket else { return };
        let mut state = self.mutex.state.borrow_mut();
        if state.granted == Some(ticket) {
            state.granted = None;
            drop(state);
            self.mutex.release();
        } else {
            state.waiters.retain(|(t, _)| *t != ticket);
        }
    }
}

/// Access to the value while the lock is held; unlocks when dropped.
#[derive(Debug)]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// Never fails to borrow: only the holder of the lock borrows it.
    value: Option<RefMut<'a, T>>,
}

impl<'a, T> MutexGuard<'a, T> {
    fn new(mutex: &'a Mutex<T>) -> Self {
        MutexGuard {
            mutex,
            value: Some(mutex.value.borrow_mut()),
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_deref().expect("present until drop")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_deref_mut().expect("present until drop")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.value = None; // end the borrow before the next holder can start one
        self.mutex.release();
    }
}
// ANCHOR_END: mutex
