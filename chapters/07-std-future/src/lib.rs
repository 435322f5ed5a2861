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
/// `Pin` at work, checked by `cargo test` (both must fail to compile with
/// E0277). Moving a pinned `!Unpin` value out of its pin:
///
/// ```compile_fail,E0277
#[doc = include_str!("../compile_fail/move_pinned.rs")]
/// ```
///
/// Treating an `async fn` future that borrows from itself as `Unpin`:
///
/// ```compile_fail,E0277
#[doc = include_str!("../compile_fail/async_fn_not_unpin.rs")]
/// ```
pub mod pinning;
pub mod reactor;
pub mod waker;

#[rustfmt::skip]
pub mod requests;
#[rustfmt::skip]
pub mod tasks;
