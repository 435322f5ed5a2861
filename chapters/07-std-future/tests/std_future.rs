//! The chapter's claims: the compiler's `async fn` and corofy's `--target std`
//! machines are the same kind of future and run on this runtime together, a
//! future that borrows from itself runs pinned, and `Pin` keeps a
//! self-pointing value valid however the pin is moved.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch07_std_future::async_requests::{self, borrowing};
use ch07_std_future::executor::{block_on, spawn};
use ch07_std_future::join_all::join_all;
use ch07_std_future::pinning::PinnedCursor;
use ch07_std_future::requests;
use delayserver::DelayServer;
use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;

#[test]
fn async_fn_and_corofy_machines_run_together_on_one_executor() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let order = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = (Rc::clone(&order), Rc::clone(&order));
    block_on(async move {
        // The slower one is corofy's, started first; they wait at the same time.
        spawn(async move {
            let bodies =
                requests::two_requests(addr, "/150/m1".into(), "/150/m2".into())
                    .await;
            a.borrow_mut().push(("corofy", bodies.unwrap()));
        });
        spawn(async move {
            let bodies =
                async_requests::two_requests(addr, "/0/c1".into(), "/0/c2".into())
                    .await;
            b.borrow_mut().push(("async fn", bodies.unwrap()));
        });
    });
    let order = order.take();
    assert_eq!(order[0], ("async fn", ["c1".to_string(), "c2".to_string()]));
    assert_eq!(order[1], ("corofy", ["m1".to_string(), "m2".to_string()]));
}

#[test]
fn join_all_runs_async_fn_futures_that_are_not_unpin() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    // Each of these futures holds a borrow of its own `text` across its
    // `.await`: moving one after its first poll would leave a dangling
    // reference, and `JoinAll` keeps each in a pinned box so none ever moves.
    let texts = ["alpha one", "beta two", "gamma three"];
    let joined =
        block_on(join_all(texts.map(|t| borrowing(addr, t.into())))).output;
    let words: Vec<String> =
        joined.outputs.into_iter().map(Result::unwrap).collect();
    assert_eq!(words, ["alpha!", "beta!", "gamma!"]);
    assert_eq!(joined.finish_order.len(), 3);
}

#[test]
fn a_pinned_cursor_stays_valid_when_its_pin_moves() {
    let mut boxed = Box::pin(PinnedCursor::new(b"hello, world"));
    assert!(boxed.as_mut().aim(7));
    let mut many = Vec::new();
    many.push(boxed); // moves the Box, not the cursor
    for _ in 0..100 {
        many.push(Box::pin(PinnedCursor::new(b"filler"))); // the Vec reallocates
    }
    assert!(many[0].cursor_is_inside());
    assert_eq!(many[0].as_ref().current(), Some(b'w'));

    let mut on_stack = pin!(PinnedCursor::new(b"abc"));
    assert!(!on_stack.as_mut().aim(16), "out of range is refused");
    assert_eq!(on_stack.as_ref().current(), None);
    assert!(on_stack.as_mut().aim(2));
    assert_eq!(on_stack.as_ref().current(), Some(b'c'));
}
