//! Chapter 8: a tour of the ring. Each operation is pushed, submitted and
//! reaped by hand, and the program prints what came back.

use ch08_uring_ring::ring;
use ch08_uring_ring::tour;
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

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: main
    let mut ring = ring::open(8)?;
    let params = ring.params();
    println!(
        "A ring with {} submission entries and {} completion entries.",
        params.sq_entries(),
        params.cq_entries()
    );

    let done = tour::nop(&mut ring)?;
    println!(
        "NOP:     user_data {}, result {}",
        done.user_data(),
        done.result()
    );

    let (reader, writer) = tour::pipe()?;
    let written = tour::write(&mut ring, &writer, b"hello, ring")?;
    println!("write:   result {written} (bytes written to the pipe)");
    let mut buf = [0u8; 64];
    let read = tour::read(&mut ring, &reader, &mut buf)?;
    let text = String::from_utf8_lossy(&buf[..read.max(0) as usize]);
    println!("read:    result {read}, the buffer now holds {text:?}");

    let started = Instant::now();
    let expired = tour::timeout(&mut ring, Duration::from_millis(100))?;
    println!(
        "timeout: result {expired} (-ETIME is {}: the timer expired) after {} ms",
        -libc::ETIME,
        started.elapsed().as_millis()
    );

    let got = tour::changed_before_submit(&mut ring)?;
    println!(
        "A write of \"AAAA\", changed to \"BBBB\" after the push and before the submit, \
         wrote {:?}.",
        String::from_utf8_lossy(&got)
    );
    let late = tour::written_when_data_arrives(&mut ring)?;
    println!(
        "A read submitted into an empty pipe got {:?} in its buffer 50 ms later.",
        String::from_utf8_lossy(&late)
    );
    // ANCHOR_END: main
    Ok(())
}
