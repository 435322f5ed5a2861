//! Join handles, and the tools tasks use with each other: `yield_now`,
//! `timeout` and `spawn_blocking`.

use crate::time::sleep;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub use crate::executor::yield_now;

// ANCHOR: join-handle
/// A spawned task, in one allocation: its future while it runs, then its
/// output until the handle takes it, and the handle's waker. The executor
/// holds it as a [`Runnable`]; the handle as a [`Joinable`].
pub(crate) struct TaskCell<F: Future> {
    stage: RefCell<Stage<F>>,
    /// The handle's waker, if it is waiting.
    waiter: Cell<Option<Waker>>,
}

enum Stage<F: Future> {
    Running(F),
    Done(Result<F::Output, JoinError>),
    Taken,
}

/// What the executor does with a task: poll it (`Ready` once it is done).
pub(crate) trait Runnable {
    fn run(self: Pin<&Self>, cx: &mut Context<'_>) -> Poll<()>;
}

impl<F: Future> Runnable for TaskCell<F> {
    fn run(self: Pin<&Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut stage = self.stage.borrow_mut();
        let Stage::Running(future) = &mut *stage else {
            return Poll::Ready(());
        };
        // SAFETY: the cell is pinned (it lives in a `Pin<Rc<_>>` and never
        // moves), and the future is never moved out of it: it is dropped in
        // place when the stage is overwritten below.
        let future = unsafe { Pin::new_unchecked(future) };
        let output = match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
        {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(panic) => {
                let e = JoinError { panic };
                log::debug!("task: {e}; its handle gets the panic");
                Err(e)
            }
        };
        *stage = Stage::Done(output);
        drop(stage);
        if let Some(waiter) = self.waiter.take() {
            waiter.wake();
        }
        Poll::Ready(())
    }
}

/// What a handle does with its task: take the output once it is there.
trait Joinable<T> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn is_finished(&self) -> bool;
}

impl<F: Future> Joinable<F::Output> for TaskCell<F> {
    fn poll_join(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<F::Output, JoinError>> {
        // Borrowed only while the task polls itself, and a task that awaits
        // its own handle waits forever, as it would anywhere.
        if let Ok(mut stage) = self.stage.try_borrow_mut()
            && let Stage::Done(_) = &*stage
            && let Stage::Done(output) =
                std::mem::replace(&mut *stage, Stage::Taken)
        {
            return Poll::Ready(output);
        }
        self.waiter.set(Some(cx.waker().clone()));
        Poll::Pending
    }

    fn is_finished(&self) -> bool {
        self.stage
            .try_borrow()
            .is_ok_and(|stage| !matches!(&*stage, Stage::Running(_)))
    }
}

/// Awaits a spawned task's output: `Ok` with its value, or `Err` if the task
/// panicked. Dropping it detaches the task, which keeps running to the end:
/// nothing is cancelled by forgetting about a result.
pub struct JoinHandle<T>(Pin<Rc<dyn Joinable<T>>>);

/// A spawned task panicked; the panic stayed in the task. Carries the panic's
/// payload, as `std::thread::JoinHandle::join` does.
pub struct JoinError {
    panic: Box<dyn Any + Send>,
}

impl JoinError {
    /// What the task panicked with (for `std::panic::resume_unwind`).
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.panic
    }

    /// The panic's message, when it was a string (as `panic!` makes).
    pub fn message(&self) -> &str {
        if let Some(text) = self.panic.downcast_ref::<&str>() {
            text
        } else if let Some(text) = self.panic.downcast_ref::<String>() {
            text
        } else {
            "(not a string)"
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinError")
            .field("panic", &self.message())
            .finish()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the task panicked: {}", self.message())
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}

/// Makes the task to spawn (one allocation) and its handle.
pub(crate) fn joinable<F: Future + 'static>(
    future: F,
) -> (Pin<Rc<dyn Runnable>>, JoinHandle<F::Output>)
where
    F::Output: 'static,
{
    let cell = Rc::pin(TaskCell {
        stage: RefCell::new(Stage::Running(future)),
        waiter: Cell::new(None),
    });
    let handle: Pin<Rc<dyn Joinable<F::Output>>> = cell.clone();
    (cell, JoinHandle(handle))
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_join(cx)
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done = self.0.is_finished();
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
