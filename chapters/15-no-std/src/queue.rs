//! The run queue: an intrusive stack of task headers, linked through
//! `TaskHeader::next`. Anyone may push (a task, an interrupt handler,
//! another thread), with one compare-exchange; only the executor takes, and
//! it takes everything at once, so the usual troubles of lock-free stacks
//! (popping one node while another thread pushes it back) cannot arise.

use crate::task::{TaskHeader, TaskRef};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

pub(crate) struct RunQueue {
    head: AtomicPtr<TaskHeader>,
}

// ANCHOR: queue
impl RunQueue {
    pub(crate) const fn new() -> Self {
        RunQueue {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Pushes `task`, which the caller has just marked QUEUED (so it is in
    /// no queue). Returns whether the queue was empty.
    pub(crate) fn push(&self, task: TaskRef) -> bool {
        let node = ptr::from_ref(task.header()).cast_mut();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            task.header().next.store(head, Ordering::Relaxed);
            match self.head.compare_exchange_weak(
                head,
                node,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return head.is_null(),
                Err(now) => head = now,
            }
        }
    }

    /// Takes every queued task, oldest first.
    pub(crate) fn take_all(&self) -> Batch {
        let mut newest = self.head.swap(ptr::null_mut(), Ordering::Acquire);
        // The stack is newest first; turn it around so that tasks run in
        // the order they were woken. Nobody else touches these `next`
        // fields: every task here is still marked QUEUED.
        let mut oldest = ptr::null_mut();
        while let Some(header) = ptr::NonNull::new(newest) {
            // SAFETY: queued headers belong to `'static` tasks.
            let header = unsafe { header.as_ref() };
            newest = header.next.load(Ordering::Relaxed);
            header.next.store(oldest, Ordering::Relaxed);
            oldest = ptr::from_ref(header).cast_mut();
        }
        Batch { next: oldest }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.load(Ordering::Acquire).is_null()
    }
}

/// Tasks taken from the queue, still marked QUEUED.
pub(crate) struct Batch {
    next: *mut TaskHeader,
}

impl Iterator for Batch {
    type Item = TaskRef;

    /// The next task. Its `next` link is read before the task is handed
    /// out: once the executor clears its QUEUED bit, a wake may push it
    /// again and overwrite that link.
    fn next(&mut self) -> Option<TaskRef> {
        let header = ptr::NonNull::new(self.next)?;
        // SAFETY: a `'static` task's header, put here by `take_all`.
        let task =
            unsafe { TaskRef::from_ptr(header.as_ptr().cast_const().cast()) };
        self.next = task.header().next.load(Ordering::Relaxed);
        Some(task)
    }
}
// ANCHOR_END: queue
