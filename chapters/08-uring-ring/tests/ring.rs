//! The tour's operations give the results the page shows, and an entry's data
//! is read at submission and written at completion.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch08_uring_ring::ring::open_or_skip;
use ch08_uring_ring::tour;
use std::time::{Duration, Instant};

#[test]
fn nop_write_read_and_timeout() {
    let Some(mut ring) = open_or_skip(8) else {
        return;
    };
    let done = tour::nop(&mut ring).unwrap();
    assert_eq!((done.user_data(), done.result()), (1, 0));
    let (reader, writer) = tour::pipe().unwrap();
    assert_eq!(tour::write(&mut ring, &writer, b"0123456789").unwrap(), 10);
    let mut buf = [0u8; 4];
    assert_eq!(tour::read(&mut ring, &reader, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"0123");
    let started = Instant::now();
    let result = tour::timeout(&mut ring, Duration::from_millis(30)).unwrap();
    assert_eq!(result, -libc::ETIME);
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "fired early"
    );
}

#[test]
fn a_write_sends_what_the_buffer_holds_at_submission() {
    let Some(mut ring) = open_or_skip(8) else {
        return;
    };
    assert_eq!(tour::changed_before_submit(&mut ring).unwrap(), b"BBBB");
}

#[test]
fn a_read_fills_its_buffer_when_the_data_arrives() {
    let Some(mut ring) = open_or_skip(8) else {
        return;
    };
    assert_eq!(
        tour::written_when_data_arrives(&mut ring).unwrap(),
        b"late data"
    );
}

#[test]
fn a_read_error_comes_back_as_a_negative_errno() {
    let Some(mut ring) = open_or_skip(8) else {
        return;
    };
    let (_reader, writer) = tour::pipe().unwrap();
    let mut buf = [0u8; 4];
    // Reading from a pipe's write end is refused by the kernel.
    assert_eq!(
        tour::read(&mut ring, &writer, &mut buf).unwrap(),
        -libc::EBADF
    );
}
