//! Chapter 9: a sound single-threaded executor over io_uring.
//!
//! [`reactor`] owns the ring, the slot table and the timers; [`executor`]
//! runs tasks and turns the reactor; [`op`] makes operations futures that own
//! their buffers; [`time`] has `sleep`. [`ring`] is chapter 8's.

pub mod echo;
pub mod executor;
pub mod exercises;
pub mod net;
pub mod op;
pub mod reactor;
pub mod ring;
pub mod sync;
pub mod task;
pub mod time;
