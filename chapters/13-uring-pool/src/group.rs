//! A task group: tasks that belong together (the connections of a server,
//! the steps of a job), waited for together. The first failure wins and
//! names its task; it cancels the group's token, which the other tasks
//! watch to stop early; they are never aborted, so each ends at a point it
//! chose. `wait` returns once the group is closed and every task has ended.

use crate::task::CatchUnwind;
use crate::token::CancellationToken;
use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

// ANCHOR: group
/// A group of tasks whose first failure is the group's (see the module).
#[derive(Debug)]
pub struct TaskGroup<E> {
    shared: Arc<Shared<E>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug)]
struct Shared<E> {
    state: Mutex<State<E>>,
    token: CancellationToken,
}

#[derive(Debug)]
struct State<E> {
    /// Tasks spawned and not ended.
    running: usize,
    closed: bool,
    first_failure: Option<GroupError<E>>,
    waiters: Vec<Waker>,
}

impl<E> State<E> {
    /// Closed and empty: `wait` may have returned, and nothing may join.
    fn over(&self) -> bool {
        self.closed && self.running == 0
    }
}

/// The first task of a group to fail, and how.
#[derive(Debug)]
pub struct GroupError<E> {
    /// The name it was spawned with.
    pub task: String,
    /// What went wrong.
    pub failure: Failure<E>,
}

/// How a group's task failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// It returned this error.
    Error(E),
    /// It panicked with this message.
    Panic(String),
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::Error(e) => write!(f, "task {:?} failed: {e}", self.task),
            Failure::Panic(m) => write!(f, "task {:?} panicked: {m}", self.task),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}

/// `spawn` on a group that is closed and empty: it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupOver;

impl fmt::Display for GroupOver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group is closed and all its tasks have ended")
    }
}

impl std::error::Error for GroupOver {}

impl<E: Send + 'static> TaskGroup<E> {
    /// An open, empty group with its own token, below `parent` (so that
    /// cancelling the parent, a shutdown token say, stops the group too).
    pub fn new(parent: &CancellationToken) -> TaskGroup<E> {
        TaskGroup {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    running: 0,
                    closed: false,
                    first_failure: None,
                    waiters: Vec::new(),
                }),
                token: parent.child_token(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The group's token: cancelled at its first failure (or by its parent,
    /// or by `cancel`). Tasks watch it to stop early.
    pub fn token(&self) -> CancellationToken {
        self.shared.token.clone()
    }

    /// Cancels the group's token.
    pub fn cancel(&self) {
        self.shared.token.cancel();
    }

    /// Spawns `future` in the group under `name`. A closed group still
    /// takes tasks while one of its tasks runs (a task may start a sibling);
    /// once it is closed and empty, it is over, and this is refused.
    pub fn spawn<F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<(), GroupOver>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        {
            let mut state = self.lock();
            if state.over() {
                return Err(GroupOver);
            }
            state.running += 1;
        }
        let (group, name) = (self.clone(), name.into());
        crate::executor::spawn(async move {
            let ended = CatchUnwind(Box::pin(future)).await;
            let failure = match ended {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(Failure::Error(e)),
                Err(panic) => Some(Failure::Panic(panic.message().to_owned())),
            };
            group.ended(name, failure);
        });
        Ok(())
    }

    /// A task ended; a failure is kept if it is the first, and cancels the
    /// group's token.
    fn ended(&self, task: String, failure: Option<Failure<E>>) {
        let (first, waiters) = {
            let mut state = self.lock();
            state.running -= 1;
            let first = failure.is_some() && state.first_failure.is_none();
            if let (true, Some(failure)) = (first, failure) {
                log::debug!("group: task {task:?} failed first");
                state.first_failure = Some(GroupError { task, failure });
            }
            let waiters = if state.over() {
                std::mem::take(&mut state.waiters)
            } else {
                Vec::new()
            };
            (first, waiters)
        };
        if first {
            self.shared.token.cancel();
        }
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Closes the group: once its last task ends, it is over.
    pub fn close(&self) {
        let waiters = {
            let mut state = self.lock();
            state.closed = true;
            if state.over() {
                std::mem::take(&mut state.waiters)
            } else {
                Vec::new()
            }
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Waits until the group is closed and all its tasks have ended; then
    /// gives the first failure, if there was one. (Waiting on a group that
    /// nobody closes waits for ever: there is no moment at which an open
    /// group is sure to get no more tasks.)
    pub async fn wait(&self) -> Result<(), GroupError<E>> {
        poll_fn(|cx| {
            let mut state = self.lock();
            if !state.over() {
                if !state.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    state.waiters.push(cx.waker().clone());
                }
                return Poll::Pending;
            }
            Poll::Ready(match state.first_failure.take() {
                Some(failure) => Err(failure),
                None => Ok(()),
            })
        })
        .await
    }

    /// Closes the group and waits for it.
    pub async fn join(self) -> Result<(), GroupError<E>> {
        self.close();
        self.wait().await
    }
}
// ANCHOR_END: group
