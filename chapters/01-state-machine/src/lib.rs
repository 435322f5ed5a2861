//! Chapter 1: a future is a state machine.
//!
//! [`future`] defines our own `Future` trait, [`http`] a future that makes one
//! HTTP request over a non-blocking socket, [`two_requests`] a state machine that
//! makes two requests in sequence, and [`runtime`] a loop that polls a future
//! until it is done. The solutions to the chapter's exercises are in
//! [`exercises`].

pub mod exercises;
pub mod future;
pub mod http;
pub mod runtime;
pub mod two_requests;
