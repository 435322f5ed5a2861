//! Chapter 10: TCP and UDP on the io_uring runtime of chapter 9, with an echo
//! server and client, and a reply and the next read linked in one submission.
//!
//! - [`reactor`]: the ring, the slot table, timers, the doorbell, and the
//!   handle by which every operation finds the reactor that started it;
//! - [`executor`]: the run queue, `block_on`, `spawn`, `yield_now`, `poll_once`;
//! - [`op`]: operations as futures that own their buffers; pipes and NOPs;
//! - [`net`]: TCP and UDP; [`echo`]: the echo server and client;
//! - [`time`]: `sleep`; [`ring`]: opening a ring (chapter 8);
//! - `sys`: the raw system calls.

#![warn(missing_docs, missing_debug_implementations)]

pub mod echo;
pub mod executor;
pub mod exercises;
pub mod net;
pub mod op;
pub mod reactor;
pub mod ring;
mod sys;
pub mod time;
