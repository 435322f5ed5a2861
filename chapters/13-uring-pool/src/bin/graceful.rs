//! `cargo run --bin graceful [ADDR]`: a server that shuts down gracefully.
//! A client sends lines `work MS`; the server works MS milliseconds and
//! answers `done MS`, and for each request a detached task writes an audit
//! line a little later (to the file `GRACEFUL_AUDIT` names, if set). The
//! first Ctrl-C (or SIGTERM) stops the accepting and closes the listener:
//! new connections are refused, requests already read are answered, idle
//! connections are closed, the audits get their grace period, and the
//! process exits 0. A second Ctrl-C exits at once.

use ch13_uring_pool::executor::spawn;
use ch13_uring_pool::group::TaskGroup;
use ch13_uring_pool::net::{TcpListener, TcpStream};
use ch13_uring_pool::shutdown::shutdown_token;
use ch13_uring_pool::time::sleep;
use ch13_uring_pool::token::CancellationToken;
use std::io::{self, Write};
use std::time::Duration;

// ANCHOR: main
#[ch13_uring_pool::main(shutdown_on_signals)]
async fn main() -> io::Result<()> {
    env_logger::init();
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:0".into());
    let addr = addr.parse().map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {e}"))
    })?;
    let listener = TcpListener::bind(addr)?;
    say(format_args!("listening on {}", listener.local_addr()));
    let shutdown = shutdown_token();
    let connections = TaskGroup::<io::Error>::new(&shutdown);
    // Accept until the shutdown token is cancelled; an accept in flight
    // then is dropped (and cancelled, its connection salvaged and closed
    // with the listener).
    while let Some(accepted) = shutdown.run_until_cancelled(listener.accept()).await
    {
        let (stream, _) = accepted?;
        let stop = connections.token();
        let _ = connections.spawn("connection", serve(stream, stop));
    }
    listener.close().await; // from here on, connecting is refused
    say(format_args!(
        "shutdown: not accepting; finishing requests in flight"
    ));
    if let Err(e) = connections.join().await {
        say(format_args!("shutdown: {e}"));
    }
    say(format_args!("shutdown: every request answered"));
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: serve
/// Answers requests until the peer closes or `stop` is cancelled while the
/// connection waits for the next request. A request already read is always
/// answered: `stop` only ever ends the wait between requests.
async fn serve(stream: TcpStream, stop: CancellationToken) -> io::Result<()> {
    let mut pending = Vec::new();
    loop {
        let line = loop {
            if let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                break line;
            }
            let read =
                stop.run_until_cancelled(stream.read(Vec::with_capacity(256)));
            let Some((n, buf)) = read.await else {
                return Ok(()); // shutting down, and no request in flight
            };
            if n? == 0 {
                return Ok(()); // the peer closed
            }
            pending.extend_from_slice(&buf);
        };
        let request = String::from_utf8_lossy(&line);
        let ms: u64 = request
            .trim()
            .strip_prefix("work ")
            .and_then(|ms| ms.parse().ok())
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "expected `work MS`")
            })?;
        say(format_args!("request started: work {ms}"));
        sleep(Duration::from_millis(ms)).await;
        let (written, _) =
            stream.write_all(format!("done {ms}\n").into_bytes()).await;
        written?;
        // Detached: never cancelled, given the grace period at exit.
        drop(spawn(audit(ms)));
    }
}

/// A critical section that must not be cut short: it writes its line only
/// after a pause, so that a shutdown finds some of them still running.
async fn audit(ms: u64) -> io::Result<()> {
    sleep(Duration::from_millis(100)).await;
    if let Some(path) = std::env::var_os("GRACEFUL_AUDIT") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(file, "audited work {ms}")?;
    }
    Ok(())
}
// ANCHOR_END: serve

/// A line on stdout, flushed at once (a test reads them as they come).
fn say(line: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
