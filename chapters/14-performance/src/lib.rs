//! Chapter 14: chapter 12's runtime, measured and made cheaper. The ring is
//! set up as [`ring::Tuning`] says (`DEFER_TASKRUN` with `TASKRUN_FLAG`, a
//! registered ring descriptor, or SQPOLL), receives can take buffers from a
//! provided buffer ring ([`bufring`]), and a spawn costs two allocations.
//! The benchmark that measures all of it is the crate's binary.
//!
//! - [`reactor`]: the ring, the slot table, timers, the doorbell, and the
//!   handle by which every operation finds the reactor that started it;
//! - [`executor`]: the run queue, `block_on`, `spawn`, `yield_now`, `poll_once`;
//! - [`op`]: operations as futures that own their buffers; pipes and NOPs;
//! - [`net`]: TCP and UDP; [`echo`]: the echo server, in each receive mode;
//! - [`bufring`]: the provided buffer ring and the buffers out of it;
//! - [`salvage`]: where dropped operations leave their results;
//! - [`task`]: join handles and `JoinError`, `spawn_blocking`, `timeout`,
//!   `race`;
//! - [`sync`]: `Event` and `Mutex`; [`time`]: `sleep`;
//! - [`ring`]: opening a ring, tuned; `sys`: the raw system calls.

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
