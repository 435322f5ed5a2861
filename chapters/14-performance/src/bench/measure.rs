//! Starting servers, loading them, and reading what they cost.
//!
//! Each server runs in its own process pinned to CPU 0 (`taskset`); the load
//! comes from this process, pinned to CPU 1, one thread driving every
//! connection. CPU time is read from
//! `/proc/PID/task/*`: the total from `schedstat` (nanoseconds), split into
//! user and kernel time in the proportion of the `stat` tick counters
//! (which are sampled, so only their ratio is used). System calls are counted
//! in separate runs under `strace -f -c`, exact and too slow to time with.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The round trip's size.
pub const MESSAGE: usize = 64;

/// Checks for the tools the benchmark runs servers with.
pub fn prepare() -> io::Result<()> {
    for tool in ["strace", "taskset"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "`{tool}` is not installed; the benchmark needs strace and \
                     taskset (on Debian: apt-get install strace util-linux)"
                ),
            ));
        }
    }
    Ok(())
}

/// Pins this process (and the threads it starts) to `cpu`.
pub fn pin_self_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: `set` is a zeroed cpu_set_t with one CPU added; the call reads
    // it for the calling thread, whose threads inherit it.
    let result = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set)
    };
    if result != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!(
                "cannot pin the load to CPU {cpu} (the benchmark needs 2 CPUs): {e}"
            ),
        ));
    }
    Ok(())
}

/// Raises the open-file limit to its maximum (idle connections need many);
/// servers started from here inherit it.
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live rlimit the calls read and write.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The middle value (the upper middle of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A server process.
pub struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The server's own pid (under strace, strace's child).
    pid: u32,
}

/// What a server said when it stopped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stopped {
    /// Completion-queue overflows its reactor saw (ours only).
    pub overflows: Option<u64>,
}

fn program() -> io::Result<PathBuf> {
    std::env::current_exe()
}

impl Running {
    /// Starts `ch14-performance serve NAME` on CPU 0, under `strace -f -c`
    /// writing to `strace_to` if given, and reads its address.
    pub fn start(name: &str, strace_to: Option<&Path>) -> io::Result<Running> {
        let mut command = Command::new("taskset");
        command.args(["-c", "0"]);
        if let Some(out) = strace_to {
            command
                .args(["strace", "-f", "-c", "-o"])
                .arg(out)
                .arg("--");
        }
        command.arg(program()?).args(["serve", name]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("start server {name}: {e}"))
        })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let addr: SocketAddr = line.trim().parse().map_err(|_| {
            let _ = child.kill();
            io::Error::other(format!(
                "server {name} did not print its address (it printed {line:?}); see its errors above"
            ))
        })?;
        let pid = match strace_to {
            Some(_) => traced_pid(child.id())?,
            None => child.id(),
        };
        Ok(Running {
            child,
            stdout,
            addr,
            pid,
        })
    }

    /// The CPU time of all the server's threads so far.
    pub fn cpu(&self) -> Cpu {
        Cpu::of(self.pid)
    }

    /// The server's resident memory now, in bytes.
    pub fn rss_bytes(&self) -> io::Result<u64> {
        rss_bytes(self.pid)
    }

    /// Closes the server's stdin, reads what it says, and waits for it (a
    /// server that does not exit within 5 s is killed).
    pub fn stop(mut self) -> Stopped {
        drop(self.child.stdin.take());
        let mut stopped = Stopped::default();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut line = String::new();
        // The server exits on its own; if it hangs, the kill below ends the read.
        let killer = {
            let pid = self.child.id();
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                    if !Path::new(&format!("/proc/{pid}")).exists() {
                        return;
                    }
                }
                // SAFETY: kill has no pointer arguments.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            })
        };
        while self.stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
            if let Some(rest) = line.trim().strip_prefix("stats cq_overflows=") {
                stopped.overflows = rest.parse().ok();
            }
            line.clear();
        }
        let _ = self.child.wait();
        let _ = killer.join();
        stopped
    }
}

fn strace_file() -> PathBuf {
    std::env::temp_dir().join(format!("ch14-bench-{}.strace", std::process::id()))
}

/// Counts the server's system calls while `connections` connections make
/// `rounds` round trips each (and are opened and closed).
pub fn count_syscalls(
    name: &str,
    connections: usize,
    rounds: usize,
) -> io::Result<u64> {
    let file = strace_file();
    let running = Running::start(name, Some(&file))?;
    echo_load(running.addr, connections, rounds)?;
    running.stop();
    let text = std::fs::read_to_string(&file)?;
    let _ = std::fs::remove_file(&file);
    text.lines()
        .find(|l| l.trim_end().ends_with("total"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            io::Error::other(format!("no total in strace's summary:\n{text}"))
        })
}

/// The pid of strace's child (the server), under `taskset`'s exec'd strace.
fn traced_pid(strace: u32) -> io::Result<u32> {
    for _ in 0..500 {
        let children = std::fs::read_to_string(format!(
            "/proc/{strace}/task/{strace}/children"
        ))
        .unwrap_or_default();
        if let Some(pid) = children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
        {
            return Ok(pid);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(io::Error::other("strace started no server"))
}

/// CPU time of a process: the total, and the user/kernel tick counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    total_ns: u64,
    user_ticks: u64,
    kernel_ticks: u64,
}

impl Cpu {
    fn of(pid: u32) -> Cpu {
        let mut cpu = Cpu::default();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return cpu;
        };
        for task in tasks.flatten() {
            let read = |file| {
                std::fs::read_to_string(task.path().join(file)).unwrap_or_default()
            };
            cpu.total_ns += read("schedstat")
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            // Fields 14 and 15 (utime, stime): the 12th and 13th after the
            // command name, which ends at the last ')'.
            let stat = read("stat");
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            let field = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            cpu.user_ticks += field(11);
            cpu.kernel_ticks += field(12);
        }
        cpu
    }

    /// The CPU time between `before` and this reading.
    pub fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            total_ns: self.total_ns.saturating_sub(before.total_ns),
            user_ticks: self.user_ticks.saturating_sub(before.user_ticks),
            kernel_ticks: self.kernel_ticks.saturating_sub(before.kernel_ticks),
        }
    }

    /// The total, in milliseconds.
    pub fn total_ms(&self) -> f64 {
        self.total_ns as f64 / 1e6
    }

    fn user_share(&self) -> f64 {
        let ticks = self.user_ticks + self.kernel_ticks;
        if ticks == 0 {
            0.0
        } else {
            self.user_ticks as f64 / ticks as f64
        }
    }

    /// Time in user space, in nanoseconds.
    pub fn user_ns(&self) -> f64 {
        self.total_ns as f64 * self.user_share()
    }

    /// Time in the kernel, in nanoseconds.
    pub fn kernel_ns(&self) -> f64 {
        self.total_ns as f64 * (1.0 - self.user_share())
    }
}

/// Resident memory of `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/PID/status"))
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn round_trip(stream: &mut TcpStream) -> io::Result<()> {
    let out = [7u8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    stream.write_all(&out)?;
    stream.read_exact(&mut back)
}

// ANCHOR: load
/// `connections` connections make `rounds` round trips each, all driven by
/// this one thread with mio (edge-triggered readiness): each connection sends
/// its next message as soon as the last one's echo is back. One thread, not
/// one per connection, so that the load's own cost is small, the same for
/// every server, and does not grow with the connections. The seconds from
/// the first message to the last echo.
pub fn echo_load(
    addr: SocketAddr,
    connections: usize,
    rounds: usize,
) -> io::Result<f64> {
    use mio::{Events, Interest, Poll, Token};
    struct Conn {
        stream: mio::net::TcpStream,
        left: usize,
        pending: usize,
    }
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(connections);
    for i in 0..connections {
        let stream = connect(addr)?;
        stream.set_nonblocking(true)?;
        let mut stream = mio::net::TcpStream::from_std(stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)?;
        conns.push(Conn {
            stream,
            left: rounds,
            pending: 0,
        });
    }
    let message = [7u8; MESSAGE];
    let send = |conn: &mut Conn| -> io::Result<()> {
        // 64 bytes into an empty socket buffer go at once, or something is wrong.
        match conn.stream.write(&message)? {
            MESSAGE => Ok(()),
            n => Err(io::Error::other(format!("short write of {n} bytes"))),
        }
    };
    let started = Instant::now();
    let mut busy = 0;
    for conn in conns.iter_mut().filter(|c| c.left > 0) {
        send(conn)?;
        busy += 1;
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = [0u8; 4096];
    while busy > 0 {
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
        if events.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the server sent nothing back for 10 s",
            ));
        }
        for event in &events {
            let conn = &mut conns[event.token().0];
            loop {
                match conn.stream.read(&mut buf) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => conn.pending += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            while conn.pending >= MESSAGE && conn.left > 0 {
                conn.pending -= MESSAGE;
                conn.left -= 1;
                if conn.left > 0 {
                    send(conn)?;
                } else {
                    busy -= 1;
                }
            }
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
// ANCHOR_END: load

/// `count` times in a row: connect, one round trip, close; the seconds.
pub fn churn_load(addr: SocketAddr, count: usize) -> io::Result<f64> {
    let started = Instant::now();
    for _ in 0..count {
        round_trip(&mut connect(addr)?)?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Opens `count` connections that each make one round trip and then stay
/// open and idle (until the result is dropped).
pub fn idle_connections(
    addr: SocketAddr,
    count: usize,
) -> io::Result<Vec<TcpStream>> {
    (0..count)
        .map(|_| {
            let mut stream = connect(addr)?;
            round_trip(&mut stream)?;
            Ok(stream)
        })
        .collect()
}
