//! Our own `Future` trait. The standard library has one too; we start with a
//! smaller one so that nothing is hidden: no `Pin`, no `Context`, no waker.

// ANCHOR: poll-state
/// What a future says when it is polled.
#[derive(Debug, PartialEq, Eq)]
pub enum PollState<T> {
    /// The work is finished and here is its result.
    Ready(T),
    /// The work cannot go on yet (it is waiting for the network, say);
    /// poll again later.
    NotReady,
}
// ANCHOR_END: poll-state

// ANCHOR: future-trait
/// A value that will exist later, and the work that produces it.
///
/// Calling `poll` runs the work as far as it can go without blocking. A future
/// must not be polled again after it returned `Ready`.
pub trait Future {
    /// The result the future produces.
    type Output;

    /// Makes as much progress as possible without blocking.
    fn poll(&mut self) -> PollState<Self::Output>;
}
// ANCHOR_END: future-trait
