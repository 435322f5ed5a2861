//! A differential test of corofy. `build.rs` writes random coroutines (loops,
//! labelled breaks, `continue`, `if`/`match` with waits in their conditions
//! and scrutinees, early returns, shadowing, coroutines waiting on
//! coroutines), has corofy rewrite them, and writes the same bodies as plain
//! functions in which each `.wait` blocks. The test runs both on several
//! inputs: the results and the order of every side effect must be the same.
//!
//! `COROFY_DIFF_SEED` and `COROFY_DIFF_PROGRAMS` choose other programs (the
//! build reruns when they change), for a longer hunt than the test's default.

/// corofy's own test fixture: Part I's `Future`, `PollState` and `block_on`.
#[path = "../../tests/fixture/mod.rs"]
mod corofy_fixture;

/// What the programs wait on, and the side effects they record.
pub mod fixture {
    pub use crate::corofy_fixture::own::{Future, PollState};
    use std::cell::RefCell;

    /// Gives back its value after `value % 3` polls that are not ready.
    #[derive(Debug)]
    pub struct Delay {
        value: u32,
        left: u32,
    }

    impl Delay {
        /// A future of `value`.
        pub fn new(value: u32) -> Delay {
            Delay {
                value,
                left: value % 3,
            }
        }
    }

    impl Future for Delay {
        type Output = u32;
        fn poll(&mut self) -> PollState<u32> {
            if self.left == 0 {
                return PollState::Ready(self.value);
            }
            self.left -= 1;
            PollState::NotReady
        }
    }

    /// Polls a future to the end.
    pub fn block_on<F: Future>(future: F) -> F::Output {
        crate::corofy_fixture::own::block_on(future).0
    }

    /// `future.run()`: [`block_on`] as a method, which the plain programs
    /// call where the coroutines wait.
    pub trait Run: Future + Sized {
        /// Polls to the end.
        fn run(self) -> Self::Output {
            block_on(self)
        }
    }

    impl<F: Future> Run for F {}

    thread_local! {
        static TRACE: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    }

    /// Records a side effect.
    pub fn note(value: u32) {
        TRACE.with(|t| t.borrow_mut().push(value));
    }

    /// The side effects recorded since the last call.
    pub fn take() -> Vec<u32> {
        TRACE.with(|t| std::mem::take(&mut *t.borrow_mut()))
    }
}

/// The programs: `p0`, `p1`, ... as corofy made them (`machines.rs`), and
/// `s0`, `s1`, ... as plain functions (`plain.rs`).
#[allow(
    unused,
    unreachable_code,
    unused_assignments,
    unused_mut,
    unused_labels,
    unused_comparisons
)]
#[allow(clippy::all)]
pub mod programs {
    use crate::fixture::*;
    include!(concat!(env!("OUT_DIR"), "/machines.rs"));
    include!(concat!(env!("OUT_DIR"), "/plain.rs"));
}

/// One program, both ways.
#[derive(Debug)]
pub struct Case {
    /// The coroutine as corofy read it.
    pub source: &'static str,
    /// Runs corofy's machine to the end.
    pub machine: fn(u32, u32) -> u32,
    /// Runs the plain function.
    pub plain: fn(u32, u32) -> u32,
}

include!(concat!(env!("OUT_DIR"), "/cases.rs"));
