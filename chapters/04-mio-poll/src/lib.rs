//! Chapter 4: a runtime that sleeps in `mio::Poll`.
//!
//! [`runtime`] owns the `mio::Poll` and lets futures register sockets with it;
//! [`http`] is chapter 1's request on a mio socket (with a non-blocking
//! connect), registered for readiness. [`future`], [`join_all`] and the
//! generated [`requests`] are chapter 3's, unchanged; [`cpu`] measures how
//! much the thread really ran.

pub mod cpu;
pub mod future;
pub mod http;
pub mod join_all;
pub mod runtime;
pub mod timeout;

#[rustfmt::skip]
pub mod requests;
