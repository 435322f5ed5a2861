//! Chapter 15: an executor for a machine without an operating system. No
//! `std`, no heap: tasks live in statics, a waker is a pointer to its task,
//! and interrupts wake tasks through lists of nodes that live inside the
//! waiting futures themselves.
//!
//! The crate is `#![no_std]`. The executor is [`executor`], [`task`],
//! [`waker`] and [`queue`]; [`list`] and [`irq`] are how interrupts reach
//! tasks. The `sim` feature (on by default) adds [`sim`], the host
//! simulation of a small board: real-time signals play the interrupts, a
//! thread plays the hardware, and a timer and a UART have drivers written the
//! way they would be on a microcontroller.

#![no_std]

#[cfg(feature = "sim")]
extern crate std;

pub mod executor;
pub mod exercises;
pub mod irq;
pub mod list;
pub mod queue;
#[cfg(feature = "sim")]
pub mod sim;
pub mod task;
pub mod waker;

pub use executor::{Event, Executor, Platform, RunEnd, Wfi};
pub use irq::{Interrupt, WaitUntil};
pub use task::{SpawnError, Task, future_size};
