//! Chapter 7: the runtime on `std::future::Future`.
//!
//! [`executor`] and [`reactor`] are chapter 6's, on `std::task::Waker` (built
//! in [`waker`] with the `Wake` trait) and `Pin`. [`http`] and [`join_all`]
//! implement `std::future::Future`; [`requests`] and [`tasks`] are generated
//! by corofy with `--target std`; [`async_requests`] is the same code as real
//! `async fn`s. [`pinning`] shows what `Pin` guarantees.

pub mod async_requests;
pub mod cpu;
pub mod executor;
pub mod exercises;
pub mod http;
pub mod join_all;
/// `Pin` at work. What it refuses to compile is checked, with the compiler's
/// own error, by `tests/compile_errors.rs` (the programs are in `tests/ui/`).
pub mod pinning;
pub mod reactor;
pub mod waker;

#[rustfmt::skip]
pub mod requests;
#[rustfmt::skip]
pub mod tasks;
