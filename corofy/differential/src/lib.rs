//! A differential test of corofy. `build.rs` writes random coroutines (loops,
//! labelled breaks, `continue`, `if`/`match` with waits in their conditions
//! and scrutinees, early returns, shadowing, coroutines waiting on
//! coroutines), has corofy rewrite them, and writes the same bodies as plain
//! functions in which each `.wait` blocks. The test runs both on several
//! inputs: the results and the order of every side effect must be the same.
//!
//! `COROFY_DIFF_SEED` and `COROFY_DIFF_PROGRAMS` choose other programs (the
//! build reruns when they change), for a longer hunt than the test's default.

/// The futures the programs wait on, and the plain runner.
pub mod fixture {
    use std::cell::RefCell;

    /// Part I's poll result.
    #[derive(Debug, PartialEq, Eq)]
    pub enum PollState<T> {
        /// Done, with the output.
        Ready(T),
        /// Poll again.
        NotReady,
    }

    /// Part I's future, without a waker.
    pub trait Future {
        /// What the future gives.
        type Output;
        /// Makes progress.
        fn poll(&mut self) -> PollState<Self::Output>;
    }

    /// Gives back its value after `value % 3` polls that are not ready.
    #[derive(Debug)]
    pub struct Countdown {
        value: u32,
        left: u32,
    }

    impl Countdown {
        /// A future of `value`.
        pub fn new(value: u32) -> Countdown {
            Countdown {
                value,
                left: value % 3,
            }
        }
    }

    impl Future for Countdown {
        type Output = u32;
        fn poll(&mut self) -> PollState<u32> {
            if self.left == 0 {
                return PollState::Ready(self.value);
            }
            self.left -= 1;
            PollState::NotReady
        }
    }

    /// Polls a future to the end. The plain programs call it in place of
    /// `.wait`; the test calls it on a whole machine.
    pub fn block_on<F: Future>(mut future: F) -> F::Output {
        loop {
            if let PollState::Ready(value) = future.poll() {
                return value;
            }
        }
    }

    /// `future.run()`: [`block_on`] as a method, for the plain programs.
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

/// What corofy made of the programs.
#[allow(
    unused,
    unreachable_code,
    unused_assignments,
    unused_mut,
    unused_labels,
    unused_comparisons
)]
#[allow(clippy::all)]
pub mod machines {
    use crate::fixture::*;
    include!(concat!(env!("OUT_DIR"), "/machines.rs"));
}

/// The same programs as plain functions.
#[allow(
    unused,
    unreachable_code,
    unused_assignments,
    unused_mut,
    unused_labels,
    unused_comparisons
)]
#[allow(clippy::all)]
pub mod plain {
    use crate::fixture::*;
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
