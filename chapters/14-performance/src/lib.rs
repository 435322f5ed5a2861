//! Chapter 12: cancellation that loses nothing, on chapter 11's runtime. A
//! dropped operation is cancelled, and what it produced before the cancel
//! got there is salvaged for the next caller ([`salvage`]); a panicking task
//! ends alone ([`task::JoinError`]); [`task::race`] drops the loser safely.
//!
//! - [`reactor`]: the ring, the slot table, timers, the doorbell, and the
//!   handle by which every operation finds the reactor that started it;
//! - [`executor`]: the run queue, `block_on`, `spawn`, `yield_now`, `poll_once`;
//! - [`op`]: operations as futures that own their buffers; pipes and NOPs;
//! - [`net`]: TCP and UDP; [`echo`]: the echo server and client of chapter 10;
//! - [`salvage`]: where dropped operations leave their results;
//! - [`task`]: join handles and `JoinError`, `spawn_blocking`, `timeout`,
//!   `race`;
//! - [`sync`]: `Event` and `Mutex`; [`time`]: `sleep`;
//! - [`ring`]: opening a ring (chapter 8); `sys`: the raw system calls.

#![warn(missing_docs, missing_debug_implementations)]

pub mod bufring;
pub mod echo;
pub mod executor;
pub mod net;
pub mod op;
pub mod reactor;
pub mod ring;
pub mod salvage;
pub mod sync;
mod sys;
pub mod task;
pub mod time;
