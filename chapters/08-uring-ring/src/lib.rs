//! Chapter 8: the io_uring rings, driven by hand.
//!
//! [`ring`] opens a ring and explains failures; [`tour`] pushes entries,
//! submits them and reaps completions one at a time, with the `unsafe` that
//! takes and what makes each use sound.

pub mod exercises;
pub mod ring;
pub mod tour;
