//! An interrupt's waiters, and the one future that waits for it.

use crate::list::{Node, WakerList};
use crate::waker::task_of;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use critical_section::CriticalSection;

// ANCHOR: interrupt
/// The tasks waiting for one interrupt. A driver keeps one in a `static`;
/// its interrupt handler wakes them, its futures wait with [`wait_until`].
///
/// [`wait_until`]: Interrupt::wait_until
pub struct Interrupt {
    waiters: WakerList,
    /// Called after a waiter is linked, in the same critical section, so
    /// a driver can set up its hardware for it (a timer sets its alarm to
    /// the earliest deadline).
    arm: Option<fn(CriticalSection<'_>, &WakerList)>,
}
// ANCHOR_END: interrupt

impl Interrupt {
    pub const fn new() -> Self {
        Interrupt {
            waiters: WakerList::new(),
            arm: None,
        }
    }

    /// An interrupt whose driver must prepare the hardware for each waiter.
    pub const fn with_arm(arm: fn(CriticalSection<'_>, &WakerList)) -> Self {
        Interrupt {
            waiters: WakerList::new(),
            arm: Some(arm),
        }
    }

    pub fn waiters(&self) -> &WakerList {
        &self.waiters
    }

    /// For the interrupt handler: wakes every waiter.
    pub fn wake_all(&self, cs: CriticalSection<'_>) -> usize {
        self.waiters.wake_all(cs)
    }

    /// For the interrupt handler: wakes the waiters whose tag `choose`s.
    pub fn wake_where(
        &self,
        cs: CriticalSection<'_>,
        choose: impl FnMut(u64) -> bool,
    ) -> usize {
        self.waiters.wake_where(cs, choose)
    }

    // ANCHOR: wait-until
    /// A future that is ready with `ready`'s value as soon as `ready`
    /// returns one, and otherwise waits for this interrupt, with `tag` for
    /// the driver. `ready` runs in a critical section: checking the
    /// hardware and linking the node happen with no interrupt in between.
    pub fn wait_until<T, F>(&'static self, tag: u64, ready: F) -> WaitUntil<F>
    where
        F: Fn(CriticalSection<'_>) -> Option<T>,
    {
        WaitUntil {
            irq: self,
            tag,
            ready,
            node: Node::new(),
        }
    }
    // ANCHOR_END: wait-until
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

// ANCHOR: wait-until-future
/// See [`Interrupt::wait_until`]. The node is inside the future and is
/// linked only when the future is polled, that is, once it is pinned.
pub struct WaitUntil<F> {
    irq: &'static Interrupt,
    tag: u64,
    ready: F,
    node: Node,
}

impl<T, F> Future for WaitUntil<F>
where
    F: Fn(CriticalSection<'_>) -> Option<T>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.into_ref();
        // SAFETY: pinning is structural for `node`: it is never moved out
        // of the future, and `WaitUntil` is `!Unpin` because `Node` is.
        let node = unsafe { this.map_unchecked(|w| &w.node) };
        let this = this.get_ref();
        critical_section::with(|cs| {
            if let Some(value) = (this.ready)(cs) {
                node.unlink(cs);
                return Poll::Ready(value);
            }
            let Some(task) = task_of(cx.waker()) else {
                panic!(
                    "a future that waits for an interrupt must run on this crate's Executor: \
                     interrupt handlers wake tasks, and only its wakers are safe to call there"
                );
            };
            if node.is_linked(cs) {
                node.set_task(cs, task);
            } else {
                this.irq.waiters.link(cs, node, task, this.tag);
            }
            if let Some(arm) = this.irq.arm {
                arm(cs, &this.irq.waiters);
            }
            Poll::Pending
        })
    }
}
// ANCHOR_END: wait-until-future
