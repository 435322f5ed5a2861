//! Solutions to the chapter's exercises.

use crate::irq::Interrupt;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use critical_section::{CriticalSection, Mutex};

// ANCHOR: mailbox
/// Exercise 1: a one-slot mailbox. An interrupt handler (or a task) puts a
/// value, replacing one nobody took yet; one task at a time awaits it.
pub struct Mailbox<T> {
    slot: Mutex<Cell<Option<T>>>,
    filled: Interrupt,
}

impl<T: Copy + Send> Mailbox<T> {
    pub const fn new() -> Self {
        Mailbox {
            slot: Mutex::new(Cell::new(None)),
            filled: Interrupt::new(),
        }
    }

    /// Leaves `value` and wakes the taker; returns the value it replaced.
    pub fn put(&self, cs: CriticalSection<'_>, value: T) -> Option<T> {
        let replaced = self.slot.borrow(cs).replace(Some(value));
        self.filled.wake_all(cs);
        replaced
    }

    /// The next value put, waiting for one if the slot is empty.
    pub async fn take(&'static self) -> T {
        self.filled
            .wait_until(0, |cs| self.slot.borrow(cs).take())
            .await
    }
}
// ANCHOR_END: mailbox

impl<T: Copy + Send> Default for Mailbox<T> {
    fn default() -> Self {
        Mailbox::new()
    }
}

// ANCHOR: select
/// Exercise 2: whichever of two futures finishes first, without a heap:
/// both are fields of this future, pinned where it is pinned.
pub struct Select<A, B> {
    first: A,
    second: B,
}

pub enum Either<A, B> {
    First(A),
    Second(B),
}

pub fn select<A: Future, B: Future>(first: A, second: B) -> Select<A, B> {
    Select { first, second }
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: pin projection. `Select` never moves `first` or `second`
        // out, has no `Drop` of its own and is `Unpin` only if both are; so
        // a pinned `Select` keeps them pinned until they are dropped with it.
        let (first, second) = unsafe {
            let this = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut this.first),
                Pin::new_unchecked(&mut this.second),
            )
        };
        if let Poll::Ready(value) = first.poll(cx) {
            return Poll::Ready(Either::First(value));
        }
        second.poll(cx).map(Either::Second)
    }
}
// ANCHOR_END: select

/// The timer ran out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

// ANCHOR: within
/// Exercise 2, used: a byte from the UART if one comes within `ticks`. When
/// the timer wins, the read is dropped and its node leaves the UART's list.
#[cfg(feature = "sim")]
pub async fn read_byte_within(ticks: u64) -> Result<u8, TimedOut> {
    use crate::sim::{timer, uart};
    match select(uart::read_byte(), timer::sleep(ticks)).await {
        Either::First(byte) => Ok(byte),
        Either::Second(()) => Err(TimedOut),
    }
}
// ANCHOR_END: within
