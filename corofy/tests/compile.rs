//! Every golden output compiles (as a module of this test crate, against the
//! small traits in `fixture`), and runs to the result the same code would give
//! written as ordinary synchronous Rust.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report
#![allow(dead_code)] // not every generated item is called

mod fixture;

#[rustfmt::skip]
#[path = "corpus/01-two-requests.rs"]
mod c01;
#[rustfmt::skip]
#[path = "corpus/02-coroutine-awaits-coroutine.rs"]
mod c02;
#[rustfmt::skip]
#[path = "corpus/03-pub-attributes-generics.rs"]
mod c03;
#[rustfmt::skip]
#[path = "corpus/04-strings-and-comments.rs"]
mod c04;
#[rustfmt::skip]
#[path = "corpus/05-if-else.rs"]
mod c05;
#[rustfmt::skip]
#[path = "corpus/06-match-arms.rs"]
mod c06;
#[rustfmt::skip]
#[path = "corpus/07-loop-break.rs"]
mod c07;
#[rustfmt::skip]
#[path = "corpus/08-while.rs"]
mod c08;
#[rustfmt::skip]
#[path = "corpus/09-for-vec.rs"]
mod c09;
#[rustfmt::skip]
#[path = "corpus/10-for-range.rs"]
mod c10;
#[rustfmt::skip]
#[path = "corpus/11-tail-wait.rs"]
mod c11;
#[rustfmt::skip]
#[path = "corpus/12-early-return.rs"]
mod c12;
#[rustfmt::skip]
#[path = "corpus/13-option-question-mark.rs"]
mod c13;
#[rustfmt::skip]
#[path = "corpus/14-inferred-output-type.rs"]
mod c14;
#[rustfmt::skip]
#[path = "corpus/15-waker-target.rs"]
mod c15;
#[rustfmt::skip]
#[path = "corpus/16-std-target.rs"]
mod c16;
#[rustfmt::skip]
#[path = "corpus/17-no-waits.rs"]
mod c17;
#[rustfmt::skip]
#[path = "corpus/18-wait-in-condition.rs"]
mod c18;
#[rustfmt::skip]
#[path = "corpus/19-labelled-loops.rs"]
mod c19;
#[rustfmt::skip]
#[path = "corpus/20-shadowing.rs"]
mod c20;
#[rustfmt::skip]
#[path = "corpus/21-accumulate.rs"]
mod c21;
#[rustfmt::skip]
#[path = "corpus/22-target-on-command-line.rs"]
mod c22;
#[rustfmt::skip]
#[path = "corpus/23-lifetimes.rs"]
mod c23;
#[rustfmt::skip]
#[path = "corpus/24-typed-local-future.rs"]
mod c24;
#[rustfmt::skip]
#[path = "corpus/25-unit-return.rs"]
mod c25;
#[rustfmt::skip]
#[path = "corpus/26-tail-match.rs"]
mod c26;
#[rustfmt::skip]
#[path = "corpus/27-loop-left-by-return.rs"]
mod c27;
#[rustfmt::skip]
#[path = "corpus/28-unit-tail-expression.rs"]
mod c28;
#[rustfmt::skip]
#[path = "corpus/29-samson-impl-future.rs"]
mod c29;
#[rustfmt::skip]
#[path = "corpus/30-boxed-return-tail-assign.rs"]
mod c30;
#[rustfmt::skip]
#[path = "corpus/31-boxed-std-target.rs"]
mod c31;
#[rustfmt::skip]
#[path = "corpus/32-boxed-waker-target.rs"]
mod c32;
#[rustfmt::skip]
#[path = "corpus/33-question-mark-on-known-future.rs"]
mod c33;
#[rustfmt::skip]
#[path = "corpus/34-raw-identifier.rs"]
mod c34;
#[rustfmt::skip]
#[path = "corpus/35-tuple-destructuring.rs"]
mod c35;

use delayserver::DelayServer;
use fixture::own::block_on;
use std::cell::RefCell;
use std::rc::Rc;

#[test]
fn every_golden_output_is_a_module_here() {
    let listed = include_str!("compile.rs");
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"))
            .unwrap()
    {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".rs") {
            assert!(
                listed.contains(&format!("#[path = \"corpus/{name}\"]")),
                "tests/corpus/{name} is not compiled by tests/compile.rs: add a #[path] module"
            );
        }
    }
}

#[test]
fn requests_run_against_the_delay_server() {
    let server = DelayServer::start().unwrap();
    let addr = server.addr();
    let (bodies, polls) =
        block_on(c01::two_requests(addr, "/30/first".to_string()));
    assert_eq!(bodies.unwrap(), ["first", "second"]);
    assert!(polls > 2, "the machine returned NotReady while waiting");
    let (total, _) = block_on(c02::total_length(addr));
    assert_eq!(total.unwrap(), 3 + 5);
    let paths = vec!["/0/a".to_string(), "/10/b".to_string()];
    let (bodies, _) = block_on(c09::fetch_all(addr, paths));
    assert_eq!(bodies.unwrap(), ["/0/a -> a", "/10/b -> b"]);
    // C. Samson's program: two `impl Future`s, stored boxed, one after the other.
    let (both, polls) = block_on(c29::async_main(addr));
    assert_eq!(both, "HelloWorld HelloWorld2");
    assert!(
        polls > 2,
        "the boxed futures returned NotReady while waiting"
    );
    // A local typed through `?` on a named future lives across a wait.
    let (joined, _) = block_on(c33::joined(addr));
    assert_eq!(joined.unwrap(), "first+second");
    // An error from the server comes out through `?`.
    let (failed, _) =
        block_on(c01::two_requests(addr, "/not-a-delay/x".to_string()));
    assert!(failed.unwrap_err().to_string().contains("400"));
}

#[test]
fn control_flow_gives_what_plain_rust_gives() {
    assert_eq!(block_on(c03::labelled("x", 5)).0, "x: 2 5");
    assert!(
        block_on(c04::tricky())
            .0
            .contains("{ not a block } and .wait and coroutine fn")
    );
    assert_eq!(block_on(c05::branch(true)).0, 311);
    assert_eq!(block_on(c05::branch(false)).0, 12);
    assert_eq!(block_on(c06::pick(Some(200))).0, 100);
    assert_eq!(block_on(c06::pick(Some(3))).0, 6);
    assert_eq!(block_on(c06::pick(None)).0, 0);
    assert_eq!(block_on(c07::until_big(4)).0, until_big_sync(4));
    assert_eq!(block_on(c08::count_up(5)).0, 4);
    assert_eq!(block_on(c10::sum_to(3)).0, 6);
    assert_eq!(block_on(c11::last(2)).0, 3);
    assert_eq!(block_on(c12::early(0)).0, 0);
    assert_eq!(block_on(c12::early(7)).0, 7);
    assert_eq!(block_on(c12::early(2)).0, 1002);
    assert_eq!(block_on(c13::both(Some(1), Some(2))).0, Some(3));
    assert_eq!(block_on(c13::both(None, Some(2))).0, None);
    assert_eq!(block_on(c14::add()), (3, 4)); // one poll per NotReady, plus the last
    assert_eq!(block_on(c17::at_once(2, 3)), (5, 1));
    assert_eq!(block_on(c18::classify(3)).0, "big");
    assert_eq!(block_on(c18::classify(0)).0, "zero");
    assert_eq!(block_on(c18::classify(1)).0, "small");
    for size in 0..5 {
        assert_eq!(block_on(c19::grid(size)).0, grid_sync(size), "size {size}");
    }
    assert_eq!(block_on(c20::shadow(3)).0, "<3>1");
    assert_eq!(block_on(c21::collect(3)).0, [3, 2, 1]);
    assert_eq!(block_on(c22::plain()).0, 4);
    assert_eq!(block_on(c23::greet("ab", 2)).0, "abab");
    assert_eq!(block_on(c24::prepared(3)).0, 3);
    assert_eq!(block_on(c26::choose(0)).0, 1);
    assert_eq!(block_on(c26::choose(1)).0, 5);
    assert_eq!(block_on(c26::choose(2)).0, 99);
    assert_eq!(block_on(c27::find_first_over(3)), (4, 5));
    // n + 1; over 5 it returns twice that, else adds 100.
    assert_eq!(block_on(c30::pick(2)), (103, 3 + 103 + 1)); // (value, polls)
    assert_eq!(block_on(c30::pick(9)), (20, 10 + 20 + 1));
    // A raw identifier keeps its name; its machine is `Type`.
    let machine: c34::Type = c34::r#type(40);
    assert_eq!(block_on(machine).0, 42);
    assert_eq!(block_on(c35::pair_then_count()).0, "ab4");
    let seen = Rc::new(std::cell::Cell::new(0));
    block_on(c28::note(Rc::clone(&seen)));
    assert_eq!(seen.get(), 2);
}

#[test]
fn side_effects_happen_once_and_in_order() {
    for (stop_early, expected) in [
        (true, vec!["start", "waited 2"]),
        (false, vec!["start", "waited 2", "end"]),
    ] {
        let log = Rc::new(RefCell::new(Vec::new()));
        block_on(c25::log_steps(Rc::clone(&log), stop_early));
        assert_eq!(*log.borrow(), expected);
    }
}

#[test]
fn the_waker_target_hands_the_waker_down() {
    let (sum, waker) = fixture::waker::block_on(c15::twice(2));
    assert_eq!((sum, waker.wakes()), (4, 4));
}

#[test]
fn the_std_target_runs_with_async_fn_futures() {
    assert_eq!(fixture::std_target::block_on(c16::outer()), 34);
    assert_eq!(fixture::std_target::block_on(c31::doubled(3)), 6 + 12);
}

#[test]
fn a_boxed_future_gets_the_waker_too() {
    let (sum, waker) = fixture::waker::block_on(c32::twice_boxed(2));
    assert_eq!((sum, waker.wakes()), (4, 4));
}

#[test]
#[should_panic(expected = "`add` was polled after it completed")]
fn polling_after_completion_panics_with_a_message() {
    use fixture::own::Future;
    let mut machine = c14::add();
    while machine.poll() == fixture::own::PollState::NotReady {}
    let _ = machine.poll();
}

fn until_big_sync(step: u32) -> u32 {
    let (mut sum, mut rounds) = (0, 0);
    loop {
        rounds += 1;
        if rounds % 2 == 0 {
            continue;
        }
        sum += step;
        if sum > 10 {
            break;
        }
    }
    sum * 100 + rounds
}

fn grid_sync(size: u32) -> u32 {
    let (mut hits, mut row) = (0, 0);
    'rows: loop {
        row += 1;
        if row > size {
            break 'rows;
        }
        for col in 0..size {
            if col == row {
                continue 'rows;
            }
            hits += 1;
        }
        hits += 1;
    }
    hits
}
