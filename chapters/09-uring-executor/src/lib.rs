//! Chapter 9: a sound single-threaded executor over io_uring.
//!
//! - [`reactor`]: the ring, the slot table, timers, the doorbell, and the
//!   handle by which every operation finds the reactor that started it;
//! - [`executor`]: the run queue, `block_on`, `spawn`, `yield_now`, `poll_once`;
//! - [`op`]: operations as futures that own their buffers; pipes and NOPs;
//! - [`time`]: `sleep`; [`ring`]: opening a ring (chapter 8);
//! - `sys`: the raw system calls.

#![warn(missing_docs, missing_debug_implementations)]

pub mod executor;
pub mod exercises;
pub mod op;
pub mod reactor;
pub mod ring;
mod sys;
pub mod time;
