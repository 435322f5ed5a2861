//! Join handles, and the tools tasks use with each other: `yield_now`,
//! `timeout` and `spawn_blocking`.

use crate::time::{Sleep, sleep};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub use crate::executor::yield_now;

// ANCHOR: join-handle
/// The output of a spawned task, once it is finished.
struct JoinState<T> {
    output: Option<T>,
    /// The handle's waker, if it is waiting.
    waiter: Option<Waker>,
}

/// Awaits a spawned task's output. Dropping it detaches the task, which keeps
/// running to the end: nothing is cancelled by forgetting about a result.
pub struct JoinHandle<T>(Rc<RefCell<JoinState<T>>>);

/// Wraps `future` into the task to spawn, and makes its handle.
pub(crate) fn joinable<F: Future + 'static>(
    future: F,
) -> (impl Future<Output = ()> + 'static, JoinHandle<F::Output>)
where
    F::Output: 'static,
{
    let slot = Rc::new(RefCell::new(JoinState {
        output: None,
        waiter: None,
    }));
    let for_task = Rc::clone(&slot);
    let task = async move {
        let output = future.await;
        let waiter = {
            let mut slot = for_task.borrow_mut();
            slot.output = Some(output);
            slot.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    };
    (task, JoinHandle(slot))
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.borrow_mut();
        match slot.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                slot.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done = self.0.borrow().output.is_some();
        f.debug_struct("JoinHandle")
            .field("finished", &done)
            .finish()
    }
}
// ANCHOR_END: join-handle

// ANCHOR: timeout
/// `timeout` ran out before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.0)
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `limit`. When time runs out, the future is
/// dropped: any operation it had in flight is parked in the reactor until its
/// completion, so nothing is freed under the kernel.
pub async fn timeout<F: Future>(
    limit: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    struct Race<F> {
        future: Pin<Box<F>>,
        timer: Sleep,
    }
    impl<F: Future> Future for Race<F> {
        type Output = Option<F::Output>;
        fn poll(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<F::Output>> {
            if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            match Pin::new(&mut self.timer).poll(cx) {
                Poll::Ready(()) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        }
    }
    let race = Race {
        future: Box::pin(future),
        timer: sleep(limit),
    };
    race.await.ok_or(Elapsed(limit))
}
// ANCHOR_END: timeout

// ANCHOR: spawn-blocking
/// Runs `f` on a thread of its own and completes with its result. The thread
/// wakes the waiting task with its waker, which (from another thread) writes
/// the runtime's eventfd: the result arrives through the ring, like any
/// other completion, while the executor goes on with other tasks. If `f`
/// panics, the panic is caught on its thread and resumed in the task that
/// awaits the handle, as if `f` had run there.
pub fn spawn_blocking<T, F>(f: F) -> BlockingHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Blocking {
        output: None,
        waiter: None,
    }));
    let for_thread = Arc::clone(&shared);
    std::thread::spawn(move || {
        let output = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let waiter = {
            let mut slot =
                for_thread.lock().unwrap_or_else(PoisonError::into_inner);
            slot.output = Some(output);
            slot.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    });
    BlockingHandle(shared)
}

#[derive(Debug)]
struct Blocking<T> {
    /// What `f` returned, or the payload of its panic.
    output: Option<std::thread::Result<T>>,
    waiter: Option<Waker>,
}

/// The result of a `spawn_blocking` closure, once it has returned.
#[derive(Debug)]
pub struct BlockingHandle<T>(Arc<Mutex<Blocking<T>>>);

impl<T> Future for BlockingHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.output.take() {
            Some(Ok(output)) => Poll::Ready(output),
            Some(Err(panic)) => {
                drop(slot);
                std::panic::resume_unwind(panic)
            }
            None => {
                slot.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
// ANCHOR_END: spawn-blocking
