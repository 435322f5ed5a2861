//! Chapter 7: the runtime on `std::future::Future`, running corofy's machines
//! and the compiler's `async fn` side by side.
//!
//! `cargo run` starts a delay server inside the program; `cargo run -- ADDR`
//! uses one that is already running at ADDR instead.

use ch07_std_future::async_requests::{self, borrowing};
use ch07_std_future::executor::{Executor, block_on, spawn};
use ch07_std_future::pinning::PinnedCursor;
use ch07_std_future::reactor::reactor;
use ch07_std_future::requests;
use ch07_std_future::tasks::{parent, report};
use delayserver::DelayServer;
use std::mem::size_of_val;
use std::net::SocketAddr;
use std::pin::pin;
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, addr): (Option<DelayServer>, SocketAddr) =
        match std::env::args().nth(1) {
            Some(arg) => {
                let addr = arg.parse().map_err(|e| {
                    format!("{arg:?} is not an address like 127.0.0.1:8080: {e}")
                })?;
                (None, addr)
            }
            None => {
                let server = DelayServer::start()?;
                let addr = server.addr();
                (Some(server), addr)
            }
        };
    println!("Delay server at {addr}.");
    // ANCHOR: main
    let (first, second) = (
        "/100/first-answer".to_string(),
        "/50/second-answer".to_string(),
    );
    println!("The same two requests, as corofy's machine and as an async fn:");
    let machine = requests::two_requests(addr, first.clone(), second.clone());
    let compiled = async_requests::two_requests(addr, first, second);
    println!(
        "  sizes before the first poll: corofy's {} bytes, the compiler's {} bytes",
        size_of_val(&machine),
        size_of_val(&compiled)
    );
    let both = block_on(async move { (machine.await, compiled.await) });
    let (from_machine, from_async) = both.output;
    println!("  corofy's machine gave {:?}", from_machine?);
    println!("  the async fn gave     {:?}", from_async?);

    println!(
        "An async fn that keeps a borrow across an .await (corofy refuses this):"
    );
    let finished = block_on(borrowing(addr, "hello, pinned world".to_string()));
    println!(
        "  gave {:?}; its future is !Unpin and ran pinned",
        finished.output?
    );

    println!("Chapter 3's self-pointing state, pinned:");
    let mut cursor = Box::pin(PinnedCursor::new(b"hello, world"));
    cursor.as_mut().aim(7);
    let moved = cursor; // moves the Box (a pointer), not the cursor
    println!(
        "  after moving the Pin<Box>: cursor inside its buffer: {}, reads {:?}",
        moved.cursor_is_inside(),
        moved.as_ref().current().map(char::from)
    );
    let mut on_stack = pin!(PinnedCursor::new(b"stack"));
    on_stack.as_mut().aim(0);
    println!(
        "  pinned on the stack with pin!: reads {:?}",
        on_stack.as_ref().current().map(char::from)
    );

    println!("Chapter 6's tasks, on the std executor:");
    Executor::new().block_on(async move {
        spawn(report(addr, "slow".into(), 300));
        spawn(parent(addr));
        spawn(report(addr, "fast".into(), 100));
    });
    println!(
        "  registrations left in the reactor: {}",
        reactor().registered()
    );
    // ANCHOR_END: main
    Ok(())
}
