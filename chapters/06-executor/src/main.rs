//! Chapter 6: many tasks on one executor, a task that spawns a task, and
//! several executors on several threads sharing the reactor.
//!
//! `cargo run` starts a delay server inside the program; `cargo run -- ADDR`
//! uses one that is already running at ADDR instead.

use ch06_executor::executor::{Executor, spawn};
use ch06_executor::future::{Future, PollState, Waker};
use ch06_executor::reactor::reactor;
use ch06_executor::tasks::{on_thread, parent, report};
use delayserver::DelayServer;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

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
    println!("One executor: four tasks, and the parent spawns a child.");
    let finished = Executor::new().block_on(Start(|| {
        spawn(report(addr, "slow".into(), 300));
        spawn(parent(addr));
        spawn(report(addr, "medium".into(), 200));
        spawn(report(addr, "fast".into(), 100));
    }));
    println!(
        "  {} tasks ran, polled {} times in all: each only when its own waker was called",
        finished.tasks, finished.polls
    );

    println!("Three executors on three threads, one reactor, three tasks each:");
    let workers: Vec<_> = (0..3)
        .map(|n| {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let for_tasks = Arc::clone(&seen);
            let worker = thread::Builder::new()
                .name(format!("executor-{n}"))
                .spawn(move || {
                    Executor::new().block_on(Start(move || {
                        for delay in [150, 100, 50] {
                            let path = format!("/{delay}/from-{n}");
                            spawn(on_thread(addr, path, Arc::clone(&for_tasks)));
                        }
                    }))
                });
            (n, seen, worker)
        })
        .collect();
    for (n, seen, worker) in workers {
        worker?
            .join()
            .map_err(|_| format!("executor-{n} panicked"))?;
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut threads: Vec<&String> = seen.iter().collect();
        threads.dedup();
        println!(
            "  executor-{n}: its tasks recorded {} thread names, all {threads:?}",
            seen.len()
        );
    }
    println!(
        "  registrations left in the reactor: {}",
        reactor().registered()
    );
    // ANCHOR_END: main
    Ok(())
}

// ANCHOR: start
/// A main future that runs a closure (which spawns the real work) and is done.
struct Start<F>(F);

impl<F: FnMut()> Future for Start<F> {
    type Output = ();
    fn poll(&mut self, _: &Waker) -> PollState<()> {
        (self.0)();
        PollState::Ready(())
    }
}
// ANCHOR_END: start
