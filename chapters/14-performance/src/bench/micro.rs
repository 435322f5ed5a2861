//! Measurements inside one runtime, each in a fresh process
//! (`ch14-performance micro TEST RUNTIME N`, which prints one number):
//!
//! - `spawn`: spawn N tasks that return at once, then await every handle;
//!   milliseconds, the median of 5 rounds;
//! - `sleeps`: N tasks each sleep 10 ms, all at once; milliseconds until the
//!   last is done, the median of 3 rounds;
//! - `sleep-memory`: N tasks asleep (for a minute); the resident memory they
//!   added, in bytes per task.

use super::measure::{median, rss_bytes};
use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The tests, in the order the results list them.
pub const TESTS: [&str; 3] = ["spawn", "sleeps", "sleep-memory"];

/// The runtimes, in the order the results list them.
pub const RUNTIMES: [&str; 6] =
    ["ch12", "ours", "pool", "tokio-ct", "tokio-mt", "monoio"];

// ANCHOR: micro
/// The body of each test, for any runtime with a `spawn` and a `sleep`.
macro_rules! body {
    ($test:expr, $n:expr, $spawn:path, $sleep:path) => {
        async move {
            match $test {
                "spawn" => {
                    let mut rounds = Vec::new();
                    for _ in 0..5 {
                        let started = Instant::now();
                        let handles: Vec<_> =
                            (0..$n).map(|i| $spawn(async move { i })).collect();
                        for handle in handles {
                            let _ = handle.await;
                        }
                        rounds.push(started.elapsed().as_secs_f64() * 1e3);
                    }
                    median(rounds)
                }
                "sleeps" => {
                    let mut rounds = Vec::new();
                    for _ in 0..3 {
                        let started = Instant::now();
                        let handles: Vec<_> = (0..$n)
                            .map(|_| {
                                $spawn(async {
                                    $sleep(Duration::from_millis(10)).await
                                })
                            })
                            .collect();
                        for handle in handles {
                            let _ = handle.await;
                        }
                        rounds.push(started.elapsed().as_secs_f64() * 1e3);
                    }
                    median(rounds)
                }
                _ => {
                    let before = rss_bytes(std::process::id()).unwrap_or(0);
                    let handles: Vec<_> = (0..$n)
                        .map(|_| {
                            $spawn(async { $sleep(Duration::from_secs(60)).await })
                        })
                        .collect();
                    // Let every task run once, so each has its timer.
                    $sleep(Duration::from_millis(100)).await;
                    let after = rss_bytes(std::process::id()).unwrap_or(0);
                    // The handles are part of what a sleeping task costs.
                    let per = after.saturating_sub(before) as f64 / $n as f64;
                    drop(handles);
                    // The tasks are still asleep: do not wait for them (our
                    // block_on would, a minute).
                    println!("{per}");
                    std::process::exit(0)
                }
            }
        }
    };
}
// ANCHOR_END: micro

/// Runs `micro TEST RUNTIME N` in a new process (pinned to CPU 0) and
/// returns the number it prints.
pub fn measure(test: &str, runtime: &str, n: usize) -> io::Result<f64> {
    let output = Command::new("taskset")
        .args(["-c", "0"])
        .arg(std::env::current_exe()?)
        .args(["micro", test, runtime, &n.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.trim().parse() {
        Ok(value) if output.status.success() => Ok(value),
        _ => Err(io::Error::other(format!(
            "micro {test} {runtime} {n} failed ({}) and printed {text:?}",
            output.status
        ))),
    }
}

/// The `micro` command: runs the test and prints its number.
pub fn run(test: &str, runtime: &str, n: &str) -> io::Result<()> {
    let n: usize = n.parse().map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("not a count: {n}"))
    })?;
    if !TESTS.contains(&test) || !RUNTIMES.contains(&runtime) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("tests: {TESTS:?}; runtimes: {RUNTIMES:?}"),
        ));
    }
    let value = match runtime {
        "ch12" => {
            let mut rt = ch12_uring_cancel::executor::Runtime::new()?;
            rt.block_on(body!(
                test,
                n,
                ch12_uring_cancel::executor::spawn,
                ch12_uring_cancel::time::sleep
            ))?
        }
        "ours" => {
            let mut rt = ch14_performance::executor::Runtime::new()?;
            rt.block_on(body!(
                test,
                n,
                ch14_performance::executor::spawn,
                ch14_performance::time::sleep
            ))?
        }
        "pool" => {
            let pool = ch13_uring_pool::executor::Pool::builder()
                .workers(2)
                .build()?;
            pool.block_on(body!(
                test,
                n,
                ch13_uring_pool::executor::spawn,
                ch13_uring_pool::time::sleep
            ))?
        }
        "tokio-ct" | "tokio-mt" => {
            let rt = if runtime == "tokio-mt" {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_time()
                    .build()?
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()?
            };
            rt.block_on(body!(test, n, tokio::spawn, tokio::time::sleep))
        }
        _ => {
            let mut rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .enable_timer()
                .build()?;
            rt.block_on(body!(test, n, monoio::spawn, monoio::time::sleep))
        }
    };
    println!("{value}");
    Ok(())
}
