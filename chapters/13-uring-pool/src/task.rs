//! Join handles (with `abort`), and the tools tasks use with each other:
//! `yield_now`, `timeout`, `race` and `spawn_blocking`.

use crate::executor::RawTask;
use crate::time::sleep;
use std::any::Any;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub use crate::blocking::{BlockingHandle, spawn_blocking};
pub use crate::executor::yield_now;

// ANCHOR: join-handle
/// The output of a spawned task, once it is finished (or how it failed).
struct JoinState<T> {
    output: Option<Result<T, JoinError>>,
    /// The handle's waker, if it is waiting.
    waiter: Option<Waker>,
}

type Shared<T> = Arc<Mutex<JoinState<T>>>;

fn lock<T>(shared: &Shared<T>) -> std::sync::MutexGuard<'_, JoinState<T>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Awaits a spawned task's output: `Ok` with its value, or `Err` if the task
/// panicked or was aborted. Dropping it detaches the task, which keeps
/// running to the end: nothing is cancelled by forgetting about a result.
/// Only [`abort`](JoinHandle::abort) cancels.
pub struct JoinHandle<T> {
    shared: Shared<T>,
    task: Option<Arc<RawTask>>,
}

/// Why a task gave no value.
pub struct JoinError {
    cause: Cause,
}

enum Cause {
    /// It panicked; the payload, as `std::thread::JoinHandle::join` gives.
    Panic(Box<dyn Any + Send>),
    /// It was aborted, or dropped at shutdown, before it finished.
    Cancelled,
}

impl JoinError {
    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.cause, Cause::Panic(_))
    }

    /// Whether the task was aborted (or dropped at shutdown).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.cause, Cause::Cancelled)
    }

    /// What the task panicked with (for `std::panic::resume_unwind`), or
    /// the error back if it did not panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self.cause {
            Cause::Panic(panic) => Ok(panic),
            Cause::Cancelled => Err(self),
        }
    }

    /// The panic's message, when it was a string (as `panic!` makes).
    pub fn message(&self) -> &str {
        match &self.cause {
            Cause::Panic(panic) => {
                if let Some(text) = panic.downcast_ref::<&str>() {
                    text
                } else if let Some(text) = panic.downcast_ref::<String>() {
                    text
                } else {
                    "(not a string)"
                }
            }
            Cause::Cancelled => "cancelled",
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Panic(_) => f.debug_tuple("JoinError::Panic"),
            Cause::Cancelled => f.debug_tuple("JoinError::Cancelled"),
        }
        .field(&self.message())
        .finish()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Panic(_) => write!(f, "the task panicked: {}", self.message()),
            Cause::Cancelled => f.write_str("the task was aborted"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}

/// Polls `future`, catching a panic in its poll as `Err`: the panic ends
/// this task only, not the worker and the tasks around it.
pub(crate) struct CatchUnwind<F>(pub(crate) Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.0.as_mut();
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(JoinError {
                cause: Cause::Panic(panic),
            })),
        }
    }
}

/// Owned by the task: delivers its output to the handle, or, if the task
/// is dropped before it has one (aborted, or left at shutdown), a
/// cancellation, so that a waiting handle never waits for ever.
struct Deliver<T>(Shared<T>);

impl<T> Deliver<T> {
    fn deliver(&self, output: Result<T, JoinError>) {
        let waiter = {
            let mut state = lock(&self.0);
            if state.output.is_some() {
                return;
            }
            state.output = Some(output);
            state.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T> Drop for Deliver<T> {
    fn drop(&mut self) {
        let done = lock(&self.0).output.is_some();
        if !done {
            self.deliver(Err(JoinError {
                cause: Cause::Cancelled,
            }));
        }
    }
}

/// Wraps `future` into the task to spawn, and makes its handle.
pub(crate) fn joinable<F>(
    future: F,
) -> (
    impl Future<Output = ()> + Send + 'static,
    JoinHandle<F::Output>,
)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = Arc::new(Mutex::new(JoinState {
        output: None,
        waiter: None,
    }));
    let deliver = Deliver(Arc::clone(&shared));
    let task = async move {
        let output = CatchUnwind(Box::pin(future)).await;
        if let Err(e) = &output {
            log::debug!("task: {e}; its handle gets the panic");
        }
        deliver.deliver(output);
    };
    (task, JoinHandle { shared, task: None })
}

impl<T> JoinHandle<T> {
    pub(crate) fn attach(mut self, task: Arc<RawTask>) -> JoinHandle<T> {
        self.task = Some(task);
        self
    }

    /// Waits for the task: its value, or why there is none.
    pub async fn join(self) -> Result<T, JoinError> {
        self.await
    }

    /// Asks for the task to be cancelled: it is dropped, on a worker, before
    /// its next poll (the poll in progress, if any, finishes first), and
    /// its handle gets a cancellation error. A task that already finished
    /// keeps its output.
    pub fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// Whether the task has finished (its output waits in the handle).
    pub fn is_finished(&self) -> bool {
        lock(&self.shared).output.is_some()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = lock(&self.shared);
        match state.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                state.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
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
/// dropped: any operation it had in flight is cancelled, and what it
/// produced anyway is salvaged for the next caller (see [`race`]).
pub async fn timeout<F: Future>(
    limit: Duration,
    future: F,
) -> Result<F::Output, Elapsed> {
    match race(future, sleep(limit)).await {
        Either::Left(output) => Ok(output),
        Either::Right(()) => Err(Elapsed(limit)),
    }
}
// ANCHOR_END: timeout

// ANCHOR: race
/// Which of two raced futures finished first, with its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<L, R> {
    /// The first future finished first.
    Left(L),
    /// The second future finished first.
    Right(R),
}

/// Runs `left` and `right` together and gives the output of the first to
/// finish. The loser is dropped as soon as the winner is known: an operation
/// it had in flight is cancelled, and what that operation produced anyway
/// (bytes, a connection, a datagram, notifications) is salvaged for the next
/// caller of the same resource, so racing loses nothing. `left` is polled
/// first, so it wins when both finish in the same poll.
pub async fn race<L: Future, R: Future>(
    left: L,
    right: R,
) -> Either<L::Output, R::Output> {
    let mut left = pin!(left);
    let mut right = pin!(right);
    poll_fn(|cx| {
        if let Poll::Ready(output) = left.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(output));
        }
        right.as_mut().poll(cx).map(Either::Right)
    })
    .await
}
// ANCHOR_END: race
