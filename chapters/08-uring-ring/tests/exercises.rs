//! The exercise solutions do what the exercises ask.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch08_uring_ring::exercises::{batch_of_nops, linked_write_then_read};
use ch08_uring_ring::ring::open_or_skip;

#[test]
fn a_batch_of_nops_comes_back_complete() {
    let Some(mut ring) = open_or_skip(16) else {
        return;
    };
    let mut ids = batch_of_nops(&mut ring, 10).unwrap();
    ids.sort();
    assert_eq!(ids, (100..110).collect::<Vec<u64>>());
}

#[test]
fn a_linked_read_sees_the_write() {
    let Some(mut ring) = open_or_skip(8) else {
        return;
    };
    assert_eq!(linked_write_then_read(&mut ring).unwrap(), b"linked");
}
