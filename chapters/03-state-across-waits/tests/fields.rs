//! Locals that live across a wait are kept in the machine's states; the ones
//! that do not are not; and a state that points into itself is wrong after a
//! move (shown by comparing addresses only).

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch03_state_across_waits::report::{
    FirstWordLater, Report, first_word_later, report,
};
use ch03_state_across_waits::runtime::block_on_spinning;
use ch03_state_across_waits::self_ref::{OffsetCursor, SelfPointing};
use delayserver::DelayServer;
use std::mem::size_of;

#[test]
fn locals_that_cross_a_wait_are_kept_and_used_after_it() {
    let server = DelayServer::start().unwrap();
    let text = block_on_spinning(report(server.addr(), "Ada".into()))
        .output
        .unwrap();
    // greeting crossed both waits, length the second, checksum both.
    assert_eq!(text, "Hello, Ada: 14 bytes of profile, three-orders, 47104");
}

#[test]
fn a_local_used_only_before_the_first_wait_is_not_stored() {
    // `scratch` is 1024 bytes; had corofy kept it in a state, the machine
    // could not be smaller than that.
    assert!(size_of::<Report>() < 1024, "{} bytes", size_of::<Report>());
}

#[test]
fn a_self_pointing_state_is_right_until_it_moves() {
    let mut state = SelfPointing::new(b"hello, world");
    state.aim(7);
    assert!(state.cursor_is_inside());
    let aimed_at = state.cursor_address();
    let moved = Box::new(state);
    // The bytes moved; the pointer did not follow them.
    assert_eq!(moved.cursor_address(), aimed_at);
    assert!(!moved.cursor_is_inside());
    // Moving it again (into a Vec) leaves it pointing at the same old place.
    let many: Vec<SelfPointing> = std::iter::once(*moved).collect();
    assert_eq!(many[0].cursor_address(), aimed_at);
    assert!(!many[0].cursor_is_inside());
}

#[test]
fn an_offset_survives_any_move() {
    let cursor = OffsetCursor::new(b"hello, world", 7);
    assert_eq!(cursor.current(), b'w');
    let boxed = Box::new(cursor.clone());
    let mut many = vec![cursor];
    many.extend((0..100).map(|_| (*boxed).clone())); // the Vec reallocates
    assert!(many.iter().all(|c| c.current() == b'w'));
}

#[test]
fn the_first_word_is_kept_as_an_index_across_the_wait() {
    let server = DelayServer::start().unwrap();
    let word =
        block_on_spinning(first_word_later(server.addr(), "hello world".into()));
    assert_eq!(word.output.unwrap(), "hello!");
    // The machine stores the whole `text` and an index into it, not a borrow.
    assert!(
        size_of::<FirstWordLater>() >= size_of::<String>() + size_of::<usize>()
    );
}
