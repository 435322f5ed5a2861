//! Chapter 3: what a machine keeps across its waits, and why it cannot keep a
//! reference into itself.
//!
//! `cargo run` starts a delay server inside the program; `cargo run -- ADDR`
//! uses one that is already running at ADDR instead.

use ch03_state_across_waits::http::HttpGet;
use ch03_state_across_waits::report::{Report, report};
use ch03_state_across_waits::runtime::block_on_spinning;
use ch03_state_across_waits::self_ref::SelfPointing;
use delayserver::DelayServer;
use std::mem::size_of;
use std::net::SocketAddr;
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
    let text = block_on_spinning(report(addr, "Ada".to_string())).output?;
    println!("report(\"Ada\") gave {text:?}");
    println!(
        "A Report is {} bytes, enough for its largest state, HttpGet ({} bytes) \
         included. The 1024-byte scratch array is in no state.",
        size_of::<Report>(),
        size_of::<HttpGet>()
    );

    // A state that points into itself, then moves.
    let mut state = SelfPointing::new(b"hello, world");
    state.aim(7);
    let aimed_at = state.cursor_address();
    println!(
        "Before the move: buffer at {:#x}, cursor at {aimed_at:#x} (inside: {})",
        state.buffer_address(),
        state.cursor_is_inside()
    );
    let moved = Box::new(state); // the value now lives on the heap
    println!(
        "After the move:  buffer at {:#x}, cursor at {:#x} (inside: {})",
        moved.buffer_address(),
        moved.cursor_address(),
        moved.cursor_is_inside()
    );
    // ANCHOR_END: main
    Ok(())
}
