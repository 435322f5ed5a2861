//! Chapter 11: tasks that work together on the io_uring runtime of chapters 9
//! and 10: join handles, sub-tasks, an eventfd-backed [`sync::Event`], an async
//! [`sync::Mutex`], `spawn_blocking`, `yield_now` and `timeout`.
//!
//! - [`reactor`]: the ring, the slot table, timers, the doorbell, and the
//!   handle by which every operation finds the reactor that started it;
//! - [`executor`]: the run queue, `block_on`, `spawn`, `yield_now`, `poll_once`;
//! - [`op`]: operations as futures that own their buffers; pipes and NOPs;
//! - [`net`]: TCP and UDP; [`echo`]: the echo server and client of chapter 10;
//! - [`task`]: join handles, `spawn_blocking`, `timeout`;
//! - [`sync`]: `Event` and `Mutex`; [`time`]: `sleep`;
//! - [`ring`]: opening a ring (chapter 8); `sys`: the raw system calls.

#![warn(missing_docs, missing_debug_implementations)]

pub mod echo;
pub mod executor;
pub mod exercises;
pub mod net;
pub mod op;
pub mod reactor;
pub mod ring;
pub mod salvage;
pub mod sync;
mod sys;
pub mod task;
pub mod time;
