//! Cancellation tokens: a tree of flags that say "stop", which tasks check
//! or wait for. Cancelling a token cancels every token below it, never one
//! above; a token per subtree (a connection, a test, a task group) stops
//! just that subtree.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

// ANCHOR: token
/// A cancellation token. Clones are the same token; [`child_token`] makes a
/// new one below it.
///
/// [`child_token`]: CancellationToken::child_token
#[derive(Clone, Default)]
pub struct CancellationToken(Arc<Node>);

#[derive(Default)]
struct Node {
    state: Mutex<NodeState>,
    /// Kept alive by its children, so that a token dropped in the middle of
    /// the tree (`root.child_token().child_token()`) still passes its
    /// parent's cancel down to the tokens below it.
    _parent: Option<Arc<Node>>,
}

#[derive(Default)]
struct NodeState {
    cancelled: bool,
    /// The tokens made by `child_token`, as long as anyone holds them.
    children: Vec<Weak<Node>>,
    /// When to drop the children nobody holds any more (it doubles, so
    /// that costs O(1) per child over time).
    prune_at: usize,
    /// Waiting `cancelled()` futures, each with its number.
    waiters: Vec<(u64, Waker)>,
    next_waiter: u64,
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CancellationToken {
    /// A new token, not cancelled, with no parent.
    pub fn new() -> CancellationToken {
        CancellationToken::default()
    }

    /// A new token below this one: cancelled when this one is (at once, if
    /// it already is), while cancelling it leaves this one alone.
    pub fn child_token(&self) -> CancellationToken {
        let child = Arc::new(Node {
            state: Mutex::default(),
            _parent: Some(Arc::clone(&self.0)),
        });
        let mut state = self.0.lock();
        if state.cancelled {
            child.lock().cancelled = true;
        } else {
            if state.children.len() >= state.prune_at {
                state.children.retain(|c| c.strong_count() > 0);
                state.prune_at = (state.children.len() * 2).max(16);
            }
            state.children.push(Arc::downgrade(&child));
        }
        CancellationToken(child)
    }

    /// Cancels this token and everything below it, and wakes whoever waits
    /// in `cancelled()`. Locks are taken one at a time, never one inside
    /// another, so cancels, child creation and waits on any thread cannot
    /// deadlock; a child made while the parent is being cancelled finds the
    /// parent cancelled, or is in the list that the cancel goes through.
    pub fn cancel(&self) {
        let mut stack = vec![Arc::clone(&self.0)];
        while let Some(node) = stack.pop() {
            let (children, waiters) = {
                let mut state = node.lock();
                if state.cancelled {
                    continue;
                }
                state.cancelled = true;
                (
                    std::mem::take(&mut state.children),
                    std::mem::take(&mut state.waiters),
                )
            };
            waiters.into_iter().for_each(|(_, waker)| waker.wake());
            stack.extend(children.iter().filter_map(Weak::upgrade));
        }
    }

    /// Whether this token is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.lock().cancelled
    }

    /// Ready once this token is cancelled.
    pub fn cancelled(&self) -> Cancelled<'_> {
        Cancelled {
            token: self,
            waiter: None,
        }
    }

    /// Runs `future` unless the token is cancelled first: `Some` with its
    /// output, or `None` when cancelled. A token cancelled already gives
    /// `None` without polling `future` once, so no work is started after a
    /// stop was asked for; when both are ready in the same poll, the output
    /// wins, so finished work is never thrown away.
    pub async fn run_until_cancelled<F: Future>(
        &self,
        future: F,
    ) -> Option<F::Output> {
        if self.is_cancelled() {
            return None;
        }
        let mut future = pin!(future);
        let mut cancelled = pin!(self.cancelled());
        poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            cancelled.as_mut().poll(cx).map(|()| None)
        })
        .await
    }

    /// A guard that cancels this token when dropped (at the end of a scope,
    /// or when the task holding it is aborted).
    pub fn drop_guard(self) -> DropGuard {
        DropGuard(Some(self))
    }
}

/// The future of [`CancellationToken::cancelled`].
#[derive(Debug)]
#[must_use = "a future does nothing unless it is polled"]
pub struct Cancelled<'a> {
    token: &'a CancellationToken,
    /// Its number in the token's waiters, once it waits.
    waiter: Option<u64>,
}

impl Future for Cancelled<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.token.0.lock();
        if state.cancelled {
            drop(state);
            self.waiter = None;
            return Poll::Ready(());
        }
        match self.waiter {
            Some(id) => {
                if let Some((_, waker)) =
                    state.waiters.iter_mut().find(|(w, _)| *w == id)
                {
                    waker.clone_from(cx.waker());
                }
            }
            None => {
                let id = state.next_waiter;
                state.next_waiter += 1;
                state.waiters.push((id, cx.waker().clone()));
                drop(state);
                self.waiter = Some(id);
            }
        }
        Poll::Pending
    }
}

impl Drop for Cancelled<'_> {
    /// A wait dropped before the cancel leaves the list at once.
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.token.0.lock().waiters.retain(|(w, _)| *w != id);
        }
    }
}

/// Cancels its token when dropped (see [`CancellationToken::drop_guard`]).
#[derive(Debug)]
pub struct DropGuard(Option<CancellationToken>);

impl DropGuard {
    /// Lets the token go without cancelling it.
    pub fn disarm(mut self) -> CancellationToken {
        self.0.take().expect("present until drop or disarm")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}
// ANCHOR_END: token

impl std::fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancellationToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_cancels_its_children_and_a_child_never_its_parent() {
        let root = CancellationToken::new();
        let (a, b) = (root.child_token(), root.child_token());
        let grandchild = a.child_token();
        a.cancel();
        assert!(a.is_cancelled() && grandchild.is_cancelled());
        assert!(!root.is_cancelled() && !b.is_cancelled());
        root.cancel();
        assert!(b.is_cancelled());
        assert!(root.child_token().is_cancelled(), "born cancelled");
    }

    #[test]
    fn a_grandchild_whose_parent_token_was_dropped_is_still_cancelled() {
        let root = CancellationToken::new();
        let grandchild = root.child_token().child_token();
        root.cancel();
        assert!(grandchild.is_cancelled());
    }

    #[test]
    fn children_dropped_by_everyone_do_not_pile_up() {
        let root = CancellationToken::new();
        let kept = root.child_token();
        for _ in 0..10_000 {
            drop(root.child_token());
        }
        assert!(root.0.lock().children.len() <= 32);
        root.cancel();
        assert!(kept.is_cancelled());
    }

    #[test]
    fn a_dropped_wait_leaves_the_list() {
        let token = CancellationToken::new();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        {
            let mut wait = pin!(token.cancelled());
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            assert_eq!(token.0.lock().waiters.len(), 1, "once per wait");
        }
        assert!(token.0.lock().waiters.is_empty());
    }
}
