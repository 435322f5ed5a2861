//! Chapter 4: the same requests, with a runtime that sleeps until the
//! operating system reports readiness.
//!
//! `cargo run` starts a delay server inside the program; `cargo run -- ADDR`
//! uses one that is already running at ADDR instead.

use ch04_mio_poll::cpu::thread_usage;
use ch04_mio_poll::join_all::join_all;
use ch04_mio_poll::requests::{fetch, two_requests};
use ch04_mio_poll::runtime::Runtime;
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
    let mut runtime = Runtime::new()?;

    println!(
        "Two requests in a row, GET /300/first-answer then GET /150/second-answer:"
    );
    let (started, before) = (Instant::now(), thread_usage());
    let coroutine = two_requests(
        addr,
        "/300/first-answer".into(),
        "/150/second-answer".into(),
    );
    let finished = runtime.block_on(coroutine)?;
    let (elapsed, after) = (started.elapsed(), thread_usage());
    let [first, second] = finished.output?;
    println!(
        "  {first:?} and {second:?} after {} ms",
        elapsed.as_millis()
    );
    println!(
        "  polled {} times, woke up {} times; on the CPU for {} ms, asleep {} times",
        finished.polls,
        finished.wakeups,
        (after.cpu - before.cpu).as_millis(),
        after.sleeps - before.sleeps
    );

    println!("Three requests at once (300, 200 and 100 ms) with join_all:");
    let paths = ["/300/slow", "/200/medium", "/100/fast"];
    let finished =
        runtime.block_on(join_all(paths.map(|p| fetch(addr, p.into()))))?;
    let joined = finished.output;
    let bodies = joined.outputs.into_iter().collect::<Result<Vec<_>, _>>()?;
    let order: Vec<&str> = joined
        .finish_order
        .iter()
        .map(|&i| bodies[i].as_str())
        .collect();
    println!("  finished in this order: {}", order.join(", "));
    println!("  the runtime woke up {} times", finished.wakeups);
    for (body, polls) in bodies.iter().zip(&joined.polls) {
        println!("  {body:>6} was polled {polls} times");
    }
    // ANCHOR_END: main
    Ok(())
}
