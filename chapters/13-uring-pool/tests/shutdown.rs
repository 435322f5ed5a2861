//! Graceful shutdown, tested on the real thing: the `graceful` server runs
//! as a child process under load, and gets a real SIGINT. Requests it has
//! read are answered, new connections are refused, the detached audits
//! finish in their grace period, and it exits 0; a second SIGINT ends it at
//! once. Each step waits for what the server prints, never for a guess of
//! how long something takes; the timeline is printed (`--nocapture`).

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The server, started, with its stdout as lines on a channel.
struct Server {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    started: Instant,
}

impl Server {
    fn start(audit: &std::path::Path) -> Option<Server> {
        ch13_uring_pool::ring::open_or_skip(8)?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_graceful"))
            .arg("127.0.0.1:0")
            .env("GRACEFUL_AUDIT", audit)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = forward_lines(stdout);
        let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        let addr = first
            .strip_prefix("listening on ")
            .unwrap()
            .parse()
            .unwrap();
        Some(Server {
            child,
            addr,
            lines,
            started: Instant::now(),
        })
    }

    fn log(&self, what: &str) {
        println!(
            "{:>6.1} ms  {what}",
            self.started.elapsed().as_secs_f64() * 1e3
        );
    }

    /// Waits for `count` lines that start with `prefix` (others are skipped).
    fn wait_for(&self, prefix: &str, count: usize) {
        let mut seen = 0;
        while seen < count {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("the server never printed {prefix:?}"));
            if line.starts_with(prefix) {
                seen += 1;
            }
        }
        self.log(&format!("server: {prefix}... (x{count})"));
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory arguments; the child is ours and alive
        // (not yet waited for), so its pid is not reused.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0);
        self.log("SIGINT sent");
    }

    /// Waits for the server to exit, at most 30 s.
    fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.log(&format!("server exited: {status}"));
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward_lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Sends each request in turn on one connection; the replies, or the
/// error that ended the connection.
fn client(
    addr: SocketAddr,
    requests: Vec<u64>,
) -> thread::JoinHandle<Result<Vec<String>, String>> {
    thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut replies = Vec::new();
        for ms in requests {
            stream
                .write_all(format!("work {ms}\n").as_bytes())
                .map_err(|e| e.to_string())?;
            let mut reply = Vec::new();
            let mut byte = [0u8];
            while !reply.ends_with(b"\n") {
                match stream.read(&mut byte) {
                    Ok(1) => reply.push(byte[0]),
                    Ok(_) => {
                        return Err(format!(
                            "closed after {replies:?} and {reply:?}"
                        ));
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            replies.push(String::from_utf8(reply).unwrap());
        }
        Ok(replies)
    })
}

fn audit_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir()
        .join(format!("ch13-{name}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn sigint_under_load_finishes_what_is_in_flight_refuses_the_rest_and_exits_0() {
    let audit = audit_file("graceful");
    let Some(mut server) = Server::start(&audit) else {
        return;
    };
    const CLIENTS: usize = 8;
    // Each client: three quick requests, then a slow one that is in flight
    // when the signal comes.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| client(server.addr, vec![0, 0, 0, 400]))
        .collect();
    server.wait_for("request started: work 400", CLIENTS);
    // An idle connection, accepted and waiting for its first request.
    let idle = TcpStream::connect(server.addr).unwrap();
    server.signal(libc::SIGINT);
    server.wait_for("shutdown: not accepting", 1);
    let refused = TcpStream::connect(server.addr);
    server.log(&format!(
        "new connection: {:?}",
        refused.as_ref().map(|_| ()).map_err(|e| e.kind())
    ));
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::ConnectionRefused),
        "a connection after the shutdown began was not refused"
    );
    for client in clients {
        let replies = client
            .join()
            .unwrap()
            .expect("a request in flight was not answered");
        assert_eq!(replies, ["done 0\n", "done 0\n", "done 0\n", "done 400\n"]);
    }
    server.log("every client got all its replies");
    let mut rest = Vec::new();
    let closed = (&idle).read_to_end(&mut rest);
    assert!(
        closed.is_ok() && rest.is_empty(),
        "the idle connection: {closed:?} {rest:?}"
    );
    server.wait_for("shutdown: every request answered", 1);
    let status = server.exit_status();
    assert_eq!(status.code(), Some(0), "{status}");
    // The detached audits, the last ones started as the replies went out,
    // all finished within the grace period.
    let audited = std::fs::read_to_string(&audit).unwrap_or_default();
    assert_eq!(audited.lines().count(), CLIENTS * 4, "{audited}");
    let _ = std::fs::remove_file(&audit);
}

#[test]
fn a_second_sigint_exits_at_once() {
    let audit = audit_file("second");
    let Some(mut server) = Server::start(&audit) else {
        return;
    };
    // A request of a minute: the graceful stop would wait for it.
    let slow = client(server.addr, vec![60_000]);
    server.wait_for("request started: work 60000", 1);
    server.signal(libc::SIGINT);
    server.wait_for("shutdown: not accepting", 1);
    let asked = Instant::now();
    server.signal(libc::SIGINT);
    let status = server.exit_status();
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(asked.elapsed() < Duration::from_secs(30));
    assert!(
        slow.join().unwrap().is_err(),
        "the slow request was answered?"
    );
    let _ = std::fs::remove_file(&audit);
}
