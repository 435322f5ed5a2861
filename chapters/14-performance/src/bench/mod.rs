//! The benchmark: what is measured, in which order, and where it goes.
//!
//! - `servers`: every echo server, by name, and how each one runs;
//! - `measure`: starting a server pinned to CPU 0, the load (from CPU 1),
//!   and reading CPU time, memory and system calls off the server;
//! - `micro`: what is measured inside one runtime (spawns, timers);
//! - `report`: the results file, and the tables and plots made from it.

pub mod measure;
pub mod micro;
pub mod report;
pub mod servers;

use measure::{Running, median};
use report::{Results, Row};
use std::io;
use std::path::{Path, PathBuf};

/// How much to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// (connections, round trips per connection) of the echo cases.
    pub cases: Vec<(usize, usize)>,
    /// Timing runs of each server per case (the median is kept).
    pub repeats: usize,
    /// Connections opened and closed one after another (accept cost).
    pub churn: usize,
    /// Idle connections held open to measure memory per connection.
    pub idle: usize,
    /// Task counts for the spawn and timer measurements.
    pub tasks: Vec<usize>,
    /// Where the results go.
    pub out: report::Dirs,
    /// Only these servers, and no measurements inside runtimes (to compare
    /// a few servers quickly); `None` for the whole benchmark.
    pub only: Option<Vec<String>>,
}

impl Options {
    /// The benchmark as the page reports it (about ten minutes).
    pub fn full() -> Options {
        Options {
            cases: vec![(1, 40_000), (16, 8_000), (128, 1_000)],
            repeats: 5,
            churn: 2_000,
            idle: 5_000,
            tasks: vec![1_000, 10_000, 100_000],
            out: results_dir(),
            only: None,
        }
    }

    /// Everything once, tiny: proves the benchmark runs (the test does this).
    pub fn quick(out: &str) -> Options {
        Options {
            cases: vec![(1, 200), (16, 20), (128, 4)],
            repeats: 1,
            churn: 20,
            idle: 50,
            tasks: vec![100, 1_000],
            out: report::Dirs {
                results: PathBuf::from(out),
                plots: PathBuf::from(out),
            },
            only: None,
        }
    }
}

/// The chapter's `results/` folder, and the book's images for the plots.
pub fn results_dir() -> report::Dirs {
    let chapter = Path::new(env!("CARGO_MANIFEST_DIR"));
    report::Dirs {
        results: chapter.join("results"),
        plots: chapter.join("../../book/src/images"),
    }
}

/// Runs every measurement and writes the results, then the tables and plots.
pub fn run(options: &Options) -> io::Result<()> {
    measure::prepare()?;
    measure::pin_self_to_cpu(1)?;
    measure::raise_fd_limit();
    let mut results = Results::describe_machine();
    results.describe("repeats", &options.repeats.to_string());
    let servers: Vec<servers::Server> = servers::ALL
        .iter()
        .filter(|s| {
            options
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| o == s.name))
        })
        .copied()
        .collect();
    for &(connections, rounds) in &options.cases {
        echo_case(options, &mut results, connections, rounds, &servers)?;
    }
    for server in &servers {
        churn_and_idle(options, &mut results, server.name)?;
    }
    if let Some(only) = &options.only {
        eprintln!("only {only:?}: no report (the tables need every server)");
        return Ok(());
    }
    for test in micro::TESTS {
        for runtime in micro::RUNTIMES {
            let sizes: &[usize] = match test {
                "spawn" | "sleep-memory" => {
                    &options.tasks[options.tasks.len() - 1..]
                }
                _ => &options.tasks,
            };
            for &n in sizes {
                let value = micro::measure(test, runtime, n)?;
                eprintln!("{test} {runtime} {n}: {value:.3}");
                results.push(Row::new("micro", test, n, runtime, value));
            }
        }
    }
    std::fs::create_dir_all(&options.out.results)?;
    results.save(&options.out.results.join(report::RESULTS))?;
    report::write(&options.out)
}

/// One echo case: the timing runs alternate the servers, `repeats` times,
/// and the medians are kept; then one counting run of each under strace.
fn echo_case(
    options: &Options,
    results: &mut Results,
    connections: usize,
    rounds: usize,
    servers: &[servers::Server],
) -> io::Result<()> {
    let total = (connections * rounds) as f64;
    let mut runs = vec![Vec::new(); servers.len()];
    for _ in 0..options.repeats {
        for (i, server) in servers.iter().enumerate() {
            let running = Running::start(server.name, None)?;
            let before = running.cpu();
            let seconds = measure::echo_load(running.addr, connections, rounds)?;
            let cpu = running.cpu().since(&before);
            let stats = running.stop();
            runs[i].push((total / seconds, cpu, stats));
        }
    }
    for (i, server) in servers.iter().enumerate() {
        let rate = median(runs[i].iter().map(|r| r.0).collect());
        let user = median(
            runs[i]
                .iter()
                .map(|r| r.1.user_ns() / total / 1e3)
                .collect(),
        );
        let kernel = median(
            runs[i]
                .iter()
                .map(|r| r.1.kernel_ns() / total / 1e3)
                .collect(),
        );
        let row = |metric, value| {
            Row::new("echo", metric, connections, server.name, value)
        };
        results.push(row("rate", rate));
        results.push(row("user_us", user));
        results.push(row("kernel_us", kernel));
        if let Some(overflows) = runs[i].iter().filter_map(|r| r.2.overflows).max()
        {
            results.push(row("cq_overflows", overflows as f64));
        }
        // System calls: a run with the round trips, less one that only
        // opens and closes the same connections. strace makes every call
        // slow but changes no count; all the round trips are counted, so
        // that the set-up's variation is small against them.
        let counted_rounds = rounds;
        let with =
            measure::count_syscalls(server.name, connections, counted_rounds)?;
        let without = measure::count_syscalls(server.name, connections, 0)?;
        let calls = with.saturating_sub(without) as f64
            / (connections * counted_rounds) as f64;
        results.push(row("syscalls", calls));
        eprintln!(
            "{connections} connections, {}: {rate:.0} round trips/s, {user:.2} + {kernel:.2} µs CPU, {calls:.3} syscalls",
            server.name
        );
    }
    Ok(())
}

/// Connections per second for a connect, one round trip and a close in a
/// row; and the server's memory per idle connection.
fn churn_and_idle(
    options: &Options,
    results: &mut Results,
    name: &str,
) -> io::Result<()> {
    let mut rates = Vec::new();
    for _ in 0..options.repeats {
        let running = Running::start(name, None)?;
        let seconds = measure::churn_load(running.addr, options.churn)?;
        running.stop();
        rates.push(options.churn as f64 / seconds);
    }
    let rate = median(rates);
    results.push(Row::new("churn", "rate", options.churn, name, rate));
    let running = Running::start(name, None)?;
    // One connection first, making enough round trips to go through every
    // buffer of a buffer ring, so what a server allocates once (its buffers'
    // pages, its first tasks) is not counted per connection.
    let warm = measure::idle_connections(running.addr, 1)?;
    measure::echo_load(running.addr, 1, 2_000)?;
    // The CPU it burns in the half second after that load, with nothing
    // at all to do (an SQPOLL thread spins for its idle time, say).
    let quiet = running.cpu();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let idle_ms = running.cpu().since(&quiet).total_ms();
    let before = running.rss_bytes()?;
    let idle = measure::idle_connections(running.addr, options.idle)?;
    let after = running.rss_bytes()?;
    drop((warm, idle));
    running.stop();
    let per = after.saturating_sub(before) as f64 / options.idle as f64;
    results.push(Row::new(
        "memory",
        "idle_connection",
        options.idle,
        name,
        per,
    ));
    results.push(Row::new("idle", "cpu_ms", 500, name, idle_ms));
    eprintln!(
        "{name}: {rate:.0} connections/s, {per:.0} bytes per idle connection, \
         {idle_ms:.1} ms CPU in 0.5 s idle"
    );
    Ok(())
}
