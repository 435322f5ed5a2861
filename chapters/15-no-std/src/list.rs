//! A waker list made of intrusive nodes: each waiting future carries its
//! own node, so the list needs no storage of its own and no heap.
//!
//! Every operation takes a [`CriticalSection`] token, so the list and the
//! nodes are only ever touched with interrupts masked (and, on more than one
//! core, the other cores kept out). The owner of a list can only wake its
//! nodes; it never gets a reference to one.

use crate::task::TaskRef;
use crate::waker::wake_task;
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::NonNull;
use critical_section::CriticalSection;

type Link = Cell<Option<NonNull<Node>>>;

// ANCHOR: types
/// The head and tail of a doubly linked list of [`Node`]s, oldest first.
/// It lives in a `static` (see [`crate::irq::Interrupt`]), so it never moves
/// and is never dropped while a node points back to it.
pub struct WakerList {
    head: Link,
    tail: Link,
}

/// One waiting task's place in a [`WakerList`], kept inside the future that
/// waits. `!Unpin`: once linked, other nodes and the list point to it.
pub struct Node {
    list: Cell<Option<NonNull<WakerList>>>,
    prev: Link,
    next: Link,
    task: Cell<Option<TaskRef>>,
    /// What the waiter waits for, for the list owner to choose whom to wake
    /// (a timer keeps a deadline here). The only thing the owner can read.
    tag: Cell<u64>,
    _pinned: PhantomPinned,
}
// ANCHOR_END: types

// SAFETY: every field of a WakerList and of its nodes is read and written
// only through a CriticalSection token, and a critical section shuts out
// every other context that could touch them: interrupt handlers on this core
// and code on any other core or thread (that is the contract of the
// `critical-section` crate's implementations).
unsafe impl Sync for WakerList {}
// SAFETY: as for WakerList: a node's fields are only used in critical
// sections, wherever the future that holds it is.
unsafe impl Send for Node {}

/// What [`WakerList::check`] found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListError {
    /// A node's `prev` does not point to the node before it.
    BrokenBackLink { position: usize },
    /// A node says it belongs to another list, or to none.
    ForeignNode { position: usize },
    /// The tail is not the last node reached from the head.
    WrongTail,
    /// More nodes than `limit`: most likely a cycle.
    TooLong,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl WakerList {
    pub const fn new() -> Self {
        WakerList {
            head: Cell::new(None),
            tail: Cell::new(None),
        }
    }

    // ANCHOR: link
    /// Appends `node`, to wake `task`. The node must not be in a list. The
    /// `Pin` is the promise that makes this sound: the node will not move,
    /// and its memory will not be reused before its `Drop` (which unlinks
    /// it) has run.
    pub fn link(
        &'static self,
        _cs: CriticalSection<'_>,
        node: Pin<&Node>,
        task: TaskRef,
        tag: u64,
    ) {
        let node = node.get_ref();
        debug_assert!(node.list.get().is_none(), "linking a linked node");
        let me = NonNull::from(node);
        node.list.set(Some(NonNull::from(self)));
        node.task.set(Some(task));
        node.tag.set(tag);
        node.next.set(None);
        node.prev.set(self.tail.get());
        match self.tail.get() {
            // SAFETY: linked nodes are alive (they unlink in Drop) and we
            // hold the critical section.
            Some(last) => unsafe { last.as_ref() }.next.set(Some(me)),
            None => self.head.set(Some(me)),
        }
        self.tail.set(Some(me));
    }
    // ANCHOR_END: link

    // ANCHOR: wake
    /// Wakes (and unlinks) every node whose tag satisfies `choose`; returns
    /// how many. Interrupt handlers call this; waking is atomics only.
    pub fn wake_where(
        &self,
        cs: CriticalSection<'_>,
        mut choose: impl FnMut(u64) -> bool,
    ) -> usize {
        let mut woken = 0;
        let mut at = self.head.get();
        while let Some(node) = at {
            // SAFETY: linked nodes are alive; we hold the critical section.
            let node = unsafe { node.as_ref() };
            at = node.next.get();
            if choose(node.tag.get()) {
                let task = node.task.get();
                node.unlink(cs);
                if let Some(task) = task {
                    wake_task(task);
                }
                woken += 1;
            }
        }
        woken
    }

    /// Wakes (and unlinks) every node.
    pub fn wake_all(&self, cs: CriticalSection<'_>) -> usize {
        self.wake_where(cs, |_| true)
    }
    // ANCHOR_END: wake

    /// The smallest tag of a linked node.
    pub fn min_tag(&self, _cs: CriticalSection<'_>) -> Option<u64> {
        self.tags().min()
    }

    /// Linked nodes.
    pub fn len(&self, _cs: CriticalSection<'_>) -> usize {
        self.tags().count()
    }

    pub fn is_empty(&self, _cs: CriticalSection<'_>) -> bool {
        self.head.get().is_none()
    }

    /// Walks the list and checks every link: for tests, which run it after
    /// each step of an interleaving. At most `limit` nodes.
    pub fn check(
        &self,
        _cs: CriticalSection<'_>,
        limit: usize,
    ) -> Result<usize, ListError> {
        let me = NonNull::from(self);
        let mut prev: Option<NonNull<Node>> = None;
        let mut at = self.head.get();
        let mut position = 0;
        while let Some(node) = at {
            if position == limit {
                return Err(ListError::TooLong);
            }
            // SAFETY: as in `wake_where`.
            let node_ref = unsafe { node.as_ref() };
            if node_ref.list.get() != Some(me) {
                return Err(ListError::ForeignNode { position });
            }
            if node_ref.prev.get() != prev {
                return Err(ListError::BrokenBackLink { position });
            }
            prev = Some(node);
            at = node_ref.next.get();
            position += 1;
        }
        if self.tail.get() != prev {
            return Err(ListError::WrongTail);
        }
        Ok(position)
    }

    /// The tags of the linked nodes, for callers holding a critical section.
    fn tags(&self) -> impl Iterator<Item = u64> + '_ {
        let mut at = self.head.get();
        core::iter::from_fn(move || {
            // SAFETY: as in `wake_where`; every caller holds a critical
            // section for as long as the iterator lives.
            let node = unsafe { at?.as_ref() };
            at = node.next.get();
            Some(node.tag.get())
        })
    }
}

impl Default for WakerList {
    fn default() -> Self {
        WakerList::new()
    }
}

impl Node {
    pub const fn new() -> Self {
        Node {
            list: Cell::new(None),
            prev: Cell::new(None),
            next: Cell::new(None),
            task: Cell::new(None),
            tag: Cell::new(0),
            _pinned: PhantomPinned,
        }
    }

    pub fn is_linked(&self, _cs: CriticalSection<'_>) -> bool {
        self.list.get().is_some()
    }

    /// The task to wake, for a node that is linked already (a future polled
    /// again, perhaps by another task).
    pub fn set_task(&self, _cs: CriticalSection<'_>, task: TaskRef) {
        self.task.set(Some(task));
    }

    // ANCHOR: unlink
    /// Takes the node out of its list, if it is in one. O(1).
    pub fn unlink(&self, _cs: CriticalSection<'_>) {
        let Some(list) = self.list.take() else {
            return;
        };
        // SAFETY: a linked node's list is a `'static` WakerList; its
        // neighbours are linked nodes, so alive; we hold the critical section.
        let list = unsafe { list.as_ref() };
        let (prev, next) = (self.prev.take(), self.next.take());
        match prev {
            // SAFETY: as above.
            Some(prev) => unsafe { prev.as_ref() }.next.set(next),
            None => list.head.set(next),
        }
        match next {
            // SAFETY: as above.
            Some(next) => unsafe { next.as_ref() }.prev.set(prev),
            None => list.tail.set(prev),
        }
        self.task.set(None);
    }
}

impl Drop for Node {
    /// A future that is dropped while it waits takes its node out first:
    /// nothing may point to memory that is about to be reused.
    fn drop(&mut self) {
        critical_section::with(|cs| self.unlink(cs));
    }
}
// ANCHOR_END: unlink

impl Default for Node {
    fn default() -> Self {
        Node::new()
    }
}
