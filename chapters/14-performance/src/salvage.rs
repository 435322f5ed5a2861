//! Salvage: what an operation produced although its future was dropped, kept
//! for the next caller of the same resource instead of being thrown away.
//!
//! An operation can complete in the kernel before its cancel gets there: a
//! read has taken bytes from the socket, an accept has taken a connection
//! from the queue. Nobody waits for the result any more, but the result is
//! real. Each resource (a stream's reads, a listener's accepts, a socket's
//! receives) owns a [`Salvage`]; each of its operations holds a [`Ticket`]
//! on it, and an abandoned operation hands its product over through the
//! ticket. The next operation on the resource first waits until no earlier
//! one is in flight (so that salvaged data is never overtaken by later
//! data), then takes what was salvaged before it asks the kernel for more.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

// ANCHOR: salvage
/// Products of dropped operations, oldest first, and how many operations of
/// the resource are in flight.
#[derive(Debug)]
pub struct Salvage<T> {
    inner: RefCell<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    items: VecDeque<T>,
    in_flight: usize,
    /// Callers of `settled` waiting for the operations in flight to end.
    waiters: Vec<Waker>,
}

impl<T> Default for Salvage<T> {
    fn default() -> Self {
        Salvage {
            inner: RefCell::new(Inner {
                items: VecDeque::new(),
                in_flight: 0,
                waiters: Vec::new(),
            }),
        }
    }
}

impl<T> Salvage<T> {
    /// Waits until no operation of the resource is in flight, then takes the
    /// oldest salvaged product, if there is one.
    pub async fn settled(&self) -> Option<T> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if inner.in_flight > 0 {
                // Once per waker, however often it is polled meanwhile.
                if !inner.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    inner.waiters.push(cx.waker().clone());
                }
                return Poll::Pending;
            }
            Poll::Ready(inner.items.pop_front())
        })
        .await
    }

    /// Keeps what an operation without a ticket (a multishot one, which
    /// would hold up every other caller while armed) produced for nobody.
    pub fn keep(&self, item: T) {
        self.inner.borrow_mut().items.push_back(item);
    }

    /// Takes the oldest salvaged product, if any, without waiting for the
    /// operations in flight (for a caller that order does not matter to).
    pub fn take_now(&self) -> Option<T> {
        self.inner.borrow_mut().items.pop_front()
    }

    /// Puts back what a caller took but had no room for: it comes first.
    pub fn put_back(&self, item: T) {
        self.inner.borrow_mut().items.push_front(item);
    }

    /// How many products wait for a caller.
    pub fn len(&self) -> usize {
        self.inner.borrow().items.len()
    }

    /// Whether nothing waits for a caller.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Copies as much of salvaged `data` into `buf` (from its start, up to its
/// capacity) as fits, as a read into `buf` would have; returns the count.
pub fn copy_into(data: &[u8], mut buf: Vec<u8>) -> (usize, Vec<u8>) {
    buf.clear();
    let n = data.len().min(buf.capacity());
    buf.extend_from_slice(&data[..n]);
    (n, buf)
}

/// Held by one operation of the resource from before it is submitted until
/// its last completion (or until it is dropped unsubmitted): while a ticket
/// exists, later operations wait in `settled`. Dropping it ends it, waking
/// the waiters at once; inside the reactor, `salvage` and `end` instead hand
/// their wakers to the reactor, which calls them once it is let go.
#[derive(Debug)]
pub struct Ticket<T> {
    /// `None` once ended.
    salvage: Option<Rc<Salvage<T>>>,
}

impl<T> Ticket<T> {
    /// A ticket for an operation about to start on the resource.
    pub fn new(salvage: &Rc<Salvage<T>>) -> Ticket<T> {
        salvage.inner.borrow_mut().in_flight += 1;
        Ticket {
            salvage: Some(Rc::clone(salvage)),
        }
    }

    /// The operation was abandoned and produced `item`: keep it for the next
    /// caller.
    pub fn salvage(mut self, item: T, woken: &mut Vec<Waker>) {
        self.finish(Some(item), woken);
    }

    /// The operation was abandoned with nothing to keep.
    pub fn end(mut self, woken: &mut Vec<Waker>) {
        self.finish(None, woken);
    }

    fn finish(&mut self, item: Option<T>, woken: &mut Vec<Waker>) {
        if let Some(salvage) = self.salvage.take() {
            if item.is_some() {
                log::debug!("salvage: kept a dropped operation's result");
            }
            let inner = &mut *salvage.inner.borrow_mut();
            inner.items.extend(item);
            inner.in_flight -= 1;
            woken.append(&mut inner.waiters);
        }
    }
}

impl<T> Drop for Ticket<T> {
    fn drop(&mut self) {
        let mut woken = Vec::new();
        self.finish(None, &mut woken);
        woken.into_iter().for_each(Waker::wake);
    }
}
// ANCHOR_END: salvage
