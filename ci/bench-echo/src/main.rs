//! `cargo run --release -p bench-echo`: our io_uring echo servers (chapter
//! 10's single-threaded runtime, chapter 13's pool, with and without its
//! ring flags) against tokio's current_thread and multi_thread ones, each in
//! its own process pinned to CPU 0, driven in turn by the same load
//! generator (this process, pinned to CPU 1).
//!
//! For 1, 16 and 128 connections of 64-byte round trips, both servers are
//! alternated three times and the medians printed: round trips per second, the
//! server's CPU time per round trip (from /proc/PID/task/*/schedstat), and its
//! system calls per round trip (separate runs under `strace -c -f`, which is
//! exact and repeatable, and too slow to time with: one with the round trips,
//! one that only opens and closes the connections, and the difference).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const MESSAGE: usize = 64;
const REPEATS: usize = 3;
/// (connections, round trips per connection)
const CASES: [(usize, usize); 3] = [(1, 20_000), (16, 3_000), (128, 500)];

struct Server {
    name: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
}

struct Running {
    child: Child,
    addr: SocketAddr,
    pid: u32,
}

fn start(server: &Server, strace_to: Option<&Path>) -> Running {
    let mut command = match strace_to {
        Some(out) => {
            let mut c = Command::new("strace");
            c.args(["-f", "-c", "-o"])
                .arg(out)
                .arg("--")
                .arg(&server.program)
                .args(server.args);
            c
        }
        None => {
            let mut c = Command::new(&server.program);
            c.args(server.args);
            c
        }
    };
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    // Pin the server (and strace) to CPU 0.
    let mut command = {
        let mut t = Command::new("taskset");
        t.arg("-c")
            .arg("0")
            .arg(command.get_program())
            .args(command.get_args());
        t.stdout(Stdio::piped()).stderr(Stdio::inherit());
        t
    };
    let mut child = command
        .spawn()
        .expect("start the server (are taskset and strace installed?)");
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server prints its address");
    let addr: SocketAddr = line.trim().parse().expect("an address");
    // The server process itself: the child, or the child's child under strace.
    let pid = if strace_to.is_some() {
        server_pid(child.id(), &server.program)
    } else {
        child.id()
    };
    Running { child, addr, pid }
}

/// The pid of the process running `program` below `parent` (strace's child).
fn server_pid(parent: u32, program: &Path) -> u32 {
    let name = program
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    for _ in 0..100 {
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>()
                else {
                    continue;
                };
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .unwrap_or_default();
                let ppid = stat
                    .rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().nth(1));
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .unwrap_or_default();
                if ppid == Some(&parent.to_string())
                    && name.starts_with(comm.trim())
                {
                    return pid;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    parent
}

/// CPU time of all threads of `pid`, in nanoseconds.
fn cpu_ns(pid: u32) -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat"))
                .unwrap_or_default();
            total += stat
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// Drives `connections` connections, `rounds` round trips each; the time.
fn load(addr: SocketAddr, connections: usize, rounds: usize) -> f64 {
    let streams: Vec<TcpStream> = (0..connections)
        .map(|_| {
            let s = TcpStream::connect(addr).expect("connect to the server");
            s.set_nodelay(true).expect("nodelay");
            s
        })
        .collect();
    let started = Instant::now();
    let workers: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            std::thread::spawn(move || {
                let out = [7u8; MESSAGE];
                let mut back = [0u8; MESSAGE];
                for _ in 0..rounds {
                    s.write_all(&out).expect("write");
                    s.read_exact(&mut back).expect("read");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a load thread panicked");
    }
    started.elapsed().as_secs_f64()
}

fn stop(mut running: Running) {
    if running.pid != running.child.id() {
        // Under strace: SIGINT lets strace print its summary; the server
        // itself is killed.
        // SAFETY: kill has no pointer arguments.
        unsafe { libc::kill(running.child.id() as libc::pid_t, libc::SIGINT) };
        // SAFETY: as above.
        unsafe { libc::kill(running.pid as libc::pid_t, libc::SIGKILL) };
    } else {
        // SIGKILL, not SIGINT: a benchmark started in the background of a
        // shell inherits SIGINT ignored, and so would its servers.
        let _ = running.child.kill();
    }
    let _ = running.child.wait();
}

fn strace_calls(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find(|l| l.trim_end().ends_with("total"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn pin_self_to_cpu_1() {
    // SAFETY: `set` is a zeroed cpu_set_t, then CPU 1 is added; the call
    // reads it for the calling thread (and the threads it starts inherit it).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(1, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Builds the server binaries this benchmark starts (`cargo run` builds only
/// the benchmark itself), and checks for the tools it runs them with.
fn prepare() {
    for tool in ["strace", "taskset"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            eprintln!(
                "error: `{tool}` is not installed; the benchmark needs strace and taskset \
                 (on Debian: apt-get install strace util-linux)"
            );
            std::process::exit(1);
        }
    }
    // Set by `cargo run`; run directly, the binaries must be built already.
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let built = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "-p",
            "bench-echo",
            "--bins",
        ])
        .status();
    if !built.is_ok_and(|s| s.success()) {
        eprintln!(
            "error: cannot build the benchmark's server binaries (see above)"
        );
        std::process::exit(1);
    }
}

fn main() {
    prepare();
    pin_self_to_cpu_1();
    let dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("a directory")
        .to_path_buf();
    let server = |name, program: &str, args| Server {
        name,
        program: dir.join(program),
        args,
    };
    let servers = [
        server("ours", "uring-echo", &[]),
        server("tokio", "tokio-echo", &[]),
        server("pool", "pool-echo", &[]),
        server("pool plain ring", "pool-echo", &["--plain"]),
        server("tokio multi_thread", "tokio-echo", &["--multi-thread"]),
    ];
    for server in &servers {
        if !server.program.exists() {
            eprintln!(
                "error: {} is not built; run `cargo run --release -p bench-echo`, which builds it",
                server.program.display()
            );
            std::process::exit(1);
        }
    }
    let strace_out = std::env::temp_dir()
        .join(format!("bench-echo-{}.strace", std::process::id()));
    let mut measured = Vec::new();
    for (connections, rounds) in CASES {
        eprintln!(
            "bench-echo: {connections} connection(s), {rounds} round trips each"
        );
        measured.push((
            connections,
            measure(&servers, connections, rounds, &strace_out),
        ));
    }
    let _ = std::fs::remove_file(&strace_out);
    // Chapter 10's page compares its runtime with tokio's current_thread;
    // chapter 13's, the pool with everything (rows index `servers`).
    let all = table(&measured, &[0, 1, 2, 3, 4], &[(0, 1), (2, 4), (2, 3)]);
    println!("{all}");
    write_results(RESULTS_10, &table(&measured, &[0, 1], &[(0, 1)]));
    write_results(RESULTS_13, &all);
}

/// One server's medians at one size: round trips per second, server CPU µs
/// per round trip, system calls per round trip.
struct Row {
    name: &'static str,
    rate: f64,
    cpu: f64,
    calls: f64,
}

/// Measures every server with `connections` connections of `rounds` round
/// trips: timing runs alternate the servers, REPEATS times; system calls are
/// a run with the round trips under strace, minus a run that only opens and
/// closes the same connections (start-up, accepts, closes).
fn measure(
    servers: &[Server],
    connections: usize,
    rounds: usize,
    strace_out: &Path,
) -> Vec<Row> {
    let total = (connections * rounds) as f64;
    let mut rates = vec![Vec::new(); servers.len()];
    let mut cpus = vec![Vec::new(); servers.len()];
    for _ in 0..REPEATS {
        for (i, server) in servers.iter().enumerate() {
            let running = start(server, None);
            let before = cpu_ns(running.pid);
            let seconds = load(running.addr, connections, rounds);
            let cpu = cpu_ns(running.pid).saturating_sub(before);
            stop(running);
            rates[i].push(total / seconds);
            cpus[i].push(cpu as f64 / 1_000.0 / total);
        }
    }
    servers
        .iter()
        .enumerate()
        .map(|(i, server)| {
            let mut counted = [0u64; 2];
            for (k, n) in [rounds, 0].into_iter().enumerate() {
                let running = start(server, Some(strace_out));
                load(running.addr, connections, n);
                stop(running);
                counted[k] = strace_calls(strace_out);
            }
            Row {
                name: server.name,
                rate: median(rates[i].clone()),
                cpu: median(cpus[i].clone()),
                calls: counted[0].saturating_sub(counted[1]) as f64 / total,
            }
        })
        .collect()
}

/// The Markdown table of the servers `shown` (indices into each size's rows)
/// and the ratios `(numerator, denominator)` between them.
fn table(
    measured: &[(usize, Vec<Row>)],
    shown: &[usize],
    ratios: &[(usize, usize)],
) -> String {
    let mut out = String::from(
        "| connections | server | round trips/s | server CPU µs/round trip | syscalls/round trip |\n\
         |---|---|---|---|---|\n",
    );
    for (connections, rows) in measured {
        for row in shown.iter().map(|&i| &rows[i]) {
            out.push_str(&format!(
                "| {connections} | {} | {:.0} | {:.2} | {:.3} |\n",
                row.name, row.rate, row.cpu, row.calls
            ));
        }
        for &(a, b) in ratios {
            let (x, y) = (&rows[a], &rows[b]);
            out.push_str(&format!(
                "| {connections} | {} / {} | {:.2} | {:.2} | {:.3} |\n",
                x.name,
                y.name,
                x.rate / y.rate,
                x.cpu / y.cpu,
                x.calls / y.calls
            ));
        }
    }
    out
}

/// Where the pages read the results from: written by this run, committed.
const RESULTS_10: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../chapters/10-uring-net/results/echo-bench.md"
);
const RESULTS_13: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../chapters/13-uring-pool/results/echo-bench.md"
);

/// Writes `table` to `path`, with the machine, kernel and date it was
/// measured on.
fn write_results(path: &str, table: &str) {
    let command = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let text = format!(
        "Measured by `cargo run --release -p bench-echo` on {} ({} CPUs: {cpu}), Linux {}: \
         each server pinned to CPU 0, the load on CPU 1, 64-byte round trips, medians of {REPEATS} runs.\n\n{table}",
        command("date", &["-u", "+%Y-%m-%d"]),
        command("nproc", &["--all"]),
        command("uname", &["-r"]),
    );
    if let Some(dir) = Path::new(path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(path, text) {
        Ok(()) => eprintln!("results written to {path}"),
        Err(e) => eprintln!("error: cannot write {path}: {e}"),
    }
}
