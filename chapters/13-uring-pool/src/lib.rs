//! Chapter 13: chapter 12's runtime on a pool of threads. N workers poll
//! `Send` tasks from one run queue; one ring thread alone submits to the
//! kernel and reaps, fed through a queue in the shared reactor core and an
//! eventfd doorbell. On top: join handles with `abort`, task groups,
//! cancellation tokens, graceful shutdown on SIGINT/SIGTERM read through a
//! signalfd, and `#[main]` for `async fn main`.
//!
//! - [`reactor`]: the core workers share, the ring thread, slots, timers,
//!   the doorbell, and the handle by which an operation finds its reactor;
//! - [`executor`]: the pool, its workers and run queue, `block_on`, `spawn`;
//! - [`op`]: operations as futures that own their buffers; pipes and NOPs;
//! - [`net`]: TCP and UDP; [`echo`]: the echo server and client;
//! - [`salvage`]: where dropped operations leave their results;
//! - [`task`]: join handles, `JoinError`, `timeout`, `race`; [`blocking`]:
//!   `spawn_blocking`'s bounded threads;
//! - [`group`]: task groups; [`token`]: cancellation tokens;
//!   [`shutdown`]: signals and the shutdown token;
//! - [`sync`]: `Event` and `Mutex`; [`time`]: `sleep`;
//! - [`ring`]: opening a ring (chapter 8); `sys`: the raw system calls.

#![warn(missing_docs, missing_debug_implementations)]

pub mod blocking;
pub mod echo;
pub mod executor;
pub mod exercises;
pub mod group;
pub mod net;
pub mod op;
pub mod reactor;
pub mod ring;
pub mod salvage;
pub mod shutdown;
pub mod sync;
mod sys;
pub mod task;
pub mod time;
pub mod token;

/// Runs `async fn main` on a new pool (see the `ch13-macros` crate).
pub use ch13_macros::main;
