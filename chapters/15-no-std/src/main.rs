//! `cargo run`: two tasks in static storage on the simulated board, woken by
//! its timer and UART interrupts; one of them is spawned a second time.
//! `cargo run -- --trace` also prints every spawn, poll, sleep, interrupt and
//! wake of the run.

use ch15_no_std::sim::{Irq, Machine, SIM, timer, uart};
use ch15_no_std::{Executor, RunEnd, Task, future_size};
use std::process::ExitCode;

// ANCHOR: statics
static EXECUTOR: Executor = Executor::new(&SIM);
static BLINK: Task<{ future_size(&blink) }> = Task::new("blink");
static ECHO: Task<{ future_size(&echo) }> = Task::new("echo");
// ANCHOR_END: statics

// ANCHOR: tasks
/// Toggles an (imaginary) LED every 100 ticks; on the third toggle it
/// spawns the echo task again, in the same static storage.
async fn blink(toggles: u32) {
    // Deadlines counted from the board's start, not from this first poll:
    // the same whenever the host gets round to running it.
    let mut deadline = 0;
    for n in 1..=toggles {
        deadline += 100;
        timer::sleep_until(deadline).await;
        let led = if n % 2 == 1 { "on" } else { "off" };
        println!("[{deadline:>3} ms] blink: led {led}");
        if n == 3 {
            match EXECUTOR.spawn(&ECHO, echo(2)) {
                Ok(()) => println!("[{deadline:>3} ms] blink: spawned echo again"),
                Err(e) => println!("[{deadline:>3} ms] blink: {e}"),
            }
        }
    }
}

/// Reads one line from the UART and prints it.
async fn echo(round: u32) {
    let mut line = [0; 32];
    let len = uart::read_line(&mut line).await;
    let text = String::from_utf8_lossy(&line[..len]);
    println!("          echo {round}: the UART sent {text:?}");
}
// ANCHOR_END: tasks

/// What the UART receives, and when: one byte every 2 ms.
fn feed() -> Vec<(u64, u8)> {
    let mut feed = Vec::new();
    for (start, text) in [(20, "hello\n"), (330, "again\n")] {
        for (i, byte) in text.bytes().enumerate() {
            feed.push((start + 2 * i as u64, byte));
        }
    }
    feed
}

// ANCHOR: main
fn main() -> ExitCode {
    println!(
        "static storage: executor {} bytes, blink {} bytes, echo {} bytes; no heap",
        size_of_val(&EXECUTOR),
        size_of_val(&BLINK),
        size_of_val(&ECHO)
    );
    let machine = match Machine::real_time(&feed()) {
        Ok(machine) => machine,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let spawned = [
        ("blink", EXECUTOR.spawn(&BLINK, blink(4))),
        ("echo", EXECUTOR.spawn(&ECHO, echo(1))),
        ("echo", EXECUTOR.spawn(&ECHO, echo(1))),
    ];
    for (name, result) in spawned {
        match result {
            Ok(()) => println!("spawn {name}: ok"),
            Err(e) => println!("spawn {name}: {e}"),
        }
    }
    let end = EXECUTOR.run();
    let trace = machine.trace();
    if std::env::args().any(|a| a == "--trace") {
        println!("trace:");
        for event in &trace {
            println!("    {event}");
        }
    }
    let sleeps = trace.iter().filter(|l| *l == "sleep").count();
    println!(
        "{end:?}: {} timer and {} UART interrupts; the CPU slept {sleeps} times",
        machine.interrupts(Irq::Timer),
        machine.interrupts(Irq::Uart),
    );
    if end == RunEnd::AllFinished {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
// ANCHOR_END: main
