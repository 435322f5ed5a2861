//! Chapter 5: the same requests, with a reactor thread that wakes the
//! executor's thread through a waker.
//!
//! `cargo run` starts a delay server inside the program; `cargo run -- ADDR`
//! uses one that is already running at ADDR instead.

use ch05_reactor_waker::cpu::thread_usage;
use ch05_reactor_waker::join_all::join_all;
use ch05_reactor_waker::reactor::reactor;
use ch05_reactor_waker::requests::{fetch, two_requests};
use ch05_reactor_waker::runtime::block_on;
use delayserver::DelayServer;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;

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
    println!(
        "Two requests in a row, GET /300/first-answer then GET /150/second-answer:"
    );
    let (started, before) = (Instant::now(), thread_usage());
    let coroutine = two_requests(
        addr,
        "/300/first-answer".into(),
        "/150/second-answer".into(),
    );
    let finished = block_on(coroutine);
    let (elapsed, after) = (started.elapsed(), thread_usage());
    let [first, second] = finished.output?;
    println!(
        "  {first:?} and {second:?} after {} ms",
        elapsed.as_millis()
    );
    println!(
        "  polled {} times; on the CPU for {} ms, asleep {} times",
        finished.polls,
        (after.cpu - before.cpu).as_millis(),
        after.sleeps - before.sleeps
    );

    println!("Three requests at once (300, 200 and 100 ms) with join_all:");
    let paths = ["/300/slow", "/200/medium", "/100/fast"];
    let finished = block_on(join_all(paths.map(|p| fetch(addr, p.into()))));
    let joined = finished.output;
    let bodies = joined.outputs.into_iter().collect::<Result<Vec<_>, _>>()?;
    let order: Vec<&str> = joined
        .finish_order
        .iter()
        .map(|&i| bodies[i].as_str())
        .collect();
    println!("  finished in this order: {}", order.join(", "));
    println!("  the join was polled {} times", finished.polls);
    println!(
        "  registrations left in the reactor: {}",
        reactor().registered()
    );
    // ANCHOR_END: main
    Ok(())
}
