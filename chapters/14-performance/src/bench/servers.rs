//! The echo servers, each run as `ch14-performance serve NAME`: it prints
//! its address (127.0.0.1, an ephemeral port) on the first line of stdout
//! and serves until its stdin closes; ours then print their reactor's
//! counters on a second line (`stats cq_overflows=N`).

use ch14_performance::echo::{Mode, Recv};
use ch14_performance::ring::{TaskRun, Tuning};
use std::io::{self, Write};
use std::net::SocketAddr;

/// A server the benchmark measures.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    /// What it is called on the command line and in the results.
    pub name: &'static str,
    /// What the page calls it.
    pub label: &'static str,
}

const fn server(name: &'static str, label: &'static str) -> Server {
    Server { name, label }
}

// ANCHOR: ladder
/// Our single-threaded runtime, one optimisation at a time: each step is the
/// one before plus one change, except `recv-multi`, which replaces
/// `ring-bufs`'s receive, and `sqpoll`, which is `ours` with SQPOLL in place
/// of `DEFER_TASKRUN`.
pub const LADDER: [Server; 7] = [
    server("ch12", "chapter 12 as it was"),
    server("defer", "+ DEFER_TASKRUN, enter only when flagged"),
    server("regfd", "+ registered ring fd"),
    server("ring-bufs", "+ receives take ring buffers"),
    server("recv-multi", "multishot receive instead"),
    server("ours", "+ multishot accept (kept)"),
    server("sqpoll", "ours with SQPOLL for DEFER_TASKRUN"),
];

/// The step each step is measured against.
pub fn before(name: &str) -> Option<&'static str> {
    Some(match name {
        "defer" => "ch12",
        "regfd" => "defer",
        "ring-bufs" | "recv-multi" => "regfd",
        "ours" => KEPT_RECV.1,
        "sqpoll" => "ours",
        _ => return None,
    })
}

/// The receive the kept runtime uses, and the step that measured it alone.
const KEPT_RECV: (Recv, &str) = (Recv::LinkedRingBuffers, "ring-bufs");

/// What each step of the ladder runs: the ring's set-up and the echo mode.
fn step(name: &str) -> Option<(Tuning, Mode)> {
    let defer = Tuning {
        task_run: TaskRun::Defer,
        register_ring_fd: false,
        sqpoll_idle_ms: None,
        buffers: None,
    };
    let linked = Mode {
        multishot_accept: false,
        recv: Recv::Linked,
    };
    let regfd = Tuning {
        register_ring_fd: true,
        ..defer
    };
    let buffers = Tuning {
        buffers: Tuning::default().buffers,
        ..regfd
    };
    let ring_bufs = Mode {
        recv: Recv::LinkedRingBuffers,
        ..linked
    };
    let multishot = Mode {
        recv: Recv::Multishot,
        ..linked
    };
    let kept = Mode {
        multishot_accept: true,
        recv: KEPT_RECV.0,
    };
    // The kernel refuses to register the ring's descriptor of an SQPOLL
    // ring (and the submitting thread rarely enters it anyway).
    let sqpoll = Tuning {
        sqpoll_idle_ms: Some(1_000),
        register_ring_fd: false,
        ..Tuning::default()
    };
    Some(match name {
        "defer" => (defer, linked),
        "regfd" => (regfd, linked),
        "ring-bufs" => (buffers, ring_bufs),
        "recv-multi" => (buffers, multishot),
        "ours" => (Tuning::default(), kept),
        "sqpoll" => (sqpoll, kept),
        _ => return None,
    })
}
// ANCHOR_END: ladder

/// The peers: chapter 13's pool, tokio's two runtimes, monoio.
pub const PEERS: [Server; 4] = [
    server("pool", "chapter 13's pool (2 workers)"),
    server("tokio-ct", "tokio current_thread"),
    server("tokio-mt", "tokio multi_thread (2 workers)"),
    server("monoio", "monoio (io_uring)"),
];

/// Every server, in the order the timing runs take them.
pub const ALL: &[Server] = &[
    LADDER[0], LADDER[1], LADDER[2], LADDER[3], LADDER[4], LADDER[5], LADDER[6],
    PEERS[0], PEERS[1], PEERS[2], PEERS[3],
];

/// The label of the server `name`.
pub fn label(name: &str) -> &'static str {
    ALL.iter().find(|s| s.name == name).map_or("?", |s| s.label)
}

/// Prints the address, so the benchmark knows where to connect.
fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{addr}")?;
    out.flush()
}

/// A thread that ends the process when stdin closes (for servers with no
/// counters to report).
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        std::process::exit(0);
    });
}

fn localhost() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Runs the server `name` until stdin closes.
pub fn serve(name: &str) -> io::Result<()> {
    if let Some((tuning, mode)) = step(name) {
        return serve_ours(tuning, mode);
    }
    match name {
        "ch12" => serve_ch12(),
        "pool" => serve_pool(),
        "tokio-ct" | "tokio-mt" => serve_tokio(name == "tokio-mt"),
        "monoio" => serve_monoio(),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "no server called {name:?}; the servers are: {}",
                ALL.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Chapter 12's runtime and chapter 14's share their API, so one body
/// serves both: the echo server, raced with a read of stdin that ends it and
/// prints the reactor's counters.
macro_rules! serve_until_stdin_closes {
    ($krate:ident, $runtime:expr, $serve:expr) => {{
        use $krate::executor::stats;
        use $krate::op::{Op, Read};
        use $krate::task::race;
        use std::os::fd::AsFd;
        let stdin = std::rc::Rc::new(io::stdin().as_fd().try_clone_to_owned()?);
        let mut runtime = $runtime;
        runtime.block_on(async {
            let listener = $krate::net::TcpListener::bind(localhost())?;
            announce(listener.local_addr())?;
            let until_eof = async {
                loop {
                    let read = Op::new(Read {
                        fd: std::rc::Rc::clone(&stdin),
                        buf: Vec::with_capacity(64),
                    });
                    if !matches!(read.await, Ok((Ok(n), _)) if n > 0) {
                        return;
                    }
                }
            };
            let _ = race($serve(listener), until_eof).await;
            println!("stats cq_overflows={}", stats().cq_overflows);
            Ok(())
        })?
    }};
}

fn serve_ours(tuning: Tuning, mode: Mode) -> io::Result<()> {
    use ch14_performance::echo::serve_with;
    let runtime = ch14_performance::executor::Runtime::with_tuning(1024, &tuning)?;
    // A step that silently measured another set-up would be a lie in the table.
    if runtime.tuning() != tuning {
        return Err(io::Error::other(format!(
            "the kernel refused the set-up {tuning:?}; got {:?}",
            runtime.tuning()
        )));
    }
    serve_until_stdin_closes!(ch14_performance, runtime, |listener| serve_with(
        listener, None, mode
    ))
}

fn serve_ch12() -> io::Result<()> {
    use ch12_uring_cancel::echo::serve;
    serve_until_stdin_closes!(
        ch12_uring_cancel,
        ch12_uring_cancel::executor::Runtime::with_entries(1024)?,
        |listener| serve(listener, None)
    )
}

fn serve_pool() -> io::Result<()> {
    use ch13_uring_pool::executor::Pool;
    exit_when_stdin_closes();
    let pool = Pool::builder().workers(2).entries(1024).build()?;
    pool.block_on(async {
        let listener = ch13_uring_pool::net::TcpListener::bind(localhost())?;
        announce(listener.local_addr())?;
        ch13_uring_pool::echo::serve(listener, None).await
    })?
}

// ANCHOR: tokio-echo
/// tokio's echo server, written the way its documentation suggests.
fn serve_tokio(multi_thread: bool) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    exit_when_stdin_closes();
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_io()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?
    };
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(localhost()).await?;
        announce(listener.local_addr()?)?;
        loop {
            let (mut stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}
// ANCHOR_END: tokio-echo

// ANCHOR: monoio-echo
/// monoio's echo server, as its examples write it: owned buffers, as ours.
fn serve_monoio() -> io::Result<()> {
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
    exit_when_stdin_closes();
    let mut runtime = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
        .with_entries(1024)
        .build()?;
    runtime.block_on(async {
        let listener = monoio::net::TcpListener::bind(localhost())?;
        announce(listener.local_addr()?)?;
        loop {
            let (mut stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            monoio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                loop {
                    let (read, back) = stream.read(buf).await;
                    buf = back;
                    match read {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let (written, back) = stream.write_all(buf).await;
                    buf = back;
                    if written.is_err() {
                        return;
                    }
                    buf.clear();
                }
            });
        }
    })
}
// ANCHOR_END: monoio-echo
