//! Chapter 1: runs the two-request state machine with a loop that spins.
//!
//! `cargo run` starts a delay server inside the program; `cargo run -- ADDR`
//! uses one that is already running at ADDR instead.

use ch01_state_machine::runtime::block_on_spinning;
use ch01_state_machine::two_requests::TwoRequests;
use delayserver::DelayServer;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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

// ANCHOR: main
fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Our own server, unless the reader named one on the command line.
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
    let (first, second) = ("/600/first-answer", "/300/second-answer");
    println!("Polling one future that makes two requests, one after the other:");
    println!("  GET {first}");
    println!("  GET {second}");

    let future = TwoRequests::new(addr, first, second); // nothing happens yet
    let (started, cpu_before) = (Instant::now(), thread_cpu_time());
    let spun = block_on_spinning(future);
    let (elapsed, cpu) = (started.elapsed(), thread_cpu_time() - cpu_before);

    let [first_body, second_body] = spun.output?;
    println!("First response:  {first_body:?}");
    println!("Second response: {second_body:?}");
    println!("Both arrived after {} ms.", elapsed.as_millis());
    println!("The loop polled the future {} times.", spun.polls);
    println!(
        "This thread was on the CPU for {} ms of those {} ms: \
         it never stopped asking.",
        cpu.as_millis(),
        elapsed.as_millis()
    );
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: cpu-time
/// CPU time (user + system) this thread has used so far.
fn thread_cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size of a `rusage`, which is
    // all getrusage needs; RUSAGE_THREAD is a valid `who` on Linux.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    if rc != 0 {
        return Duration::ZERO; // cannot happen with valid arguments
    }
    // SAFETY: getrusage returned 0, so it filled in the whole struct (and a
    // zeroed `rusage` is a valid value anyway).
    let usage = unsafe { usage.assume_init() };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}
// ANCHOR_END: cpu-time
