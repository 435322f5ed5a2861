//! Opening a ring, with an error that says why it failed and what to do.

use io_uring::IoUring;
use std::fmt;
use std::io;

// ANCHOR: ring-error
/// Why a ring could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// ENOSYS: the kernel has no io_uring.
    Unsupported,
    /// EPERM: io_uring exists but this process may not use it.
    NotPermitted,
    /// ENOMEM: the rings could not be allocated or locked in memory.
    NoMemory,
    /// Anything else.
    Other,
}

/// `io_uring_setup` failed; `Display` explains the cause and the fix.
#[derive(Debug)]
pub struct RingError {
    /// What the error number means for the reader.
    pub cause: Cause,
    /// The error `io_uring_setup` returned.
    pub source: io::Error,
}

impl RingError {
    /// Classifies the error `io_uring_setup` returned.
    pub fn from_io(source: io::Error) -> Self {
        let cause = match source.raw_os_error() {
            Some(libc::ENOSYS) => Cause::Unsupported,
            Some(libc::EPERM) => Cause::NotPermitted,
            Some(libc::ENOMEM) => Cause::NoMemory,
            _ => Cause::Other,
        };
        RingError { cause, source }
    }
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.source;
        match self.cause {
            Cause::Unsupported => write!(
                f,
                "io_uring is not available: io_uring_setup failed ({e}). The kernel is \
                 older than 5.1 or was built without CONFIG_IO_URING; the io_uring \
                 chapters need Linux 5.11 or newer."
            ),
            Cause::NotPermitted => write!(
                f,
                "io_uring is not permitted here: io_uring_setup failed ({e}). Either \
                 the sysctl kernel.io_uring_disabled is set (see `sysctl \
                 kernel.io_uring_disabled`; 0 allows everyone, and `sudo sysctl \
                 kernel.io_uring_disabled=0` sets it), or a seccomp profile blocks \
                 io_uring, as Docker's default does (run the container with a profile \
                 that allows io_uring_setup, io_uring_enter and io_uring_register)."
            ),
            Cause::NoMemory => write!(
                f,
                "io_uring could not allocate its rings: io_uring_setup failed ({e}). \
                 On kernels before 5.12 the rings count against the locked-memory \
                 limit: raise it (`ulimit -l`) or ask for fewer entries."
            ),
            Cause::Other => write!(f, "io_uring_setup failed: {e}"),
        }
    }
}

impl std::error::Error for RingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A ring with `entries` submission queue entries.
pub fn open(entries: u32) -> Result<IoUring, RingError> {
    IoUring::new(entries).map_err(RingError::from_io)
}

// ANCHOR: open-tuned
/// A ring set up for a single-threaded runtime: only this thread submits
/// (`SINGLE_ISSUER`), and the kernel does not interrupt it to run completion
/// work, which waits for its next `io_uring_enter` (`COOP_TASKRUN`; the
/// runtime enters every turn while operations are in flight). Kernels older
/// than 6.0 refuse these flags with EINVAL; then a plain ring is used.
pub fn open_tuned(entries: u32) -> Result<IoUring, RingError> {
    let tuned = IoUring::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .build(entries);
    match tuned {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => open(entries),
        other => other.map_err(RingError::from_io),
    }
}
// ANCHOR_END: open-tuned
// ANCHOR_END: ring-error

// ANCHOR: tuning
/// How completions that need this thread's help (task work) get run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskRun {
    /// `COOP_TASKRUN` (chapter 8): the kernel runs task work at the next
    /// transition to the kernel, any system call, without interrupting us.
    Coop,
    /// `DEFER_TASKRUN`: task work waits until we ask for completions
    /// (`io_uring_enter` with `GETEVENTS`), and is then run in one batch.
    Defer,
}

/// The ring's set-up: each of this chapter's ring-level optimisations is a
/// switch, so that the benchmark measures each against the same code
/// without it. `Tuning::default()` is what the chapter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// How task work is run.
    pub task_run: TaskRun,
    /// Register the ring's own descriptor, so that each `io_uring_enter`
    /// names it by index and the kernel skips looking the file up.
    pub register_ring_fd: bool,
    /// A kernel thread polls the submission queue (`SQPOLL`), with this idle
    /// time in milliseconds before it sleeps; submitting then needs no
    /// system call while it is awake. The kernel's thread then runs the task
    /// work, and `task_run` is not used (the kernel refuses both flags with
    /// SQPOLL).
    pub sqpoll_idle_ms: Option<u32>,
    /// A provided buffer ring of this many buffers of this many bytes, for
    /// multishot receives (`TcpStream::recv_many`); `None` for none.
    pub buffers: Option<(u16, u32)>,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            task_run: TaskRun::Defer,
            register_ring_fd: true,
            sqpoll_idle_ms: None,
            buffers: Some((512, 4096)),
        }
    }
}

impl Tuning {
    /// Chapter 12's set-up: `COOP_TASKRUN`, nothing registered, no SQPOLL.
    pub fn chapter_12() -> Tuning {
        Tuning {
            task_run: TaskRun::Coop,
            register_ring_fd: false,
            sqpoll_idle_ms: None,
            buffers: None,
        }
    }
}

/// A ring for a single-threaded runtime, set up as `tuning` says (always
/// `SINGLE_ISSUER`; without SQPOLL also `TASKRUN_FLAG`, by which the kernel
/// says when task work waits for us). A kernel that refuses the flags (EINVAL: older than
/// 6.1 for `DEFER_TASKRUN`) gets chapter 12's ring instead, with a warning.
/// Also says whether the ring has `TASKRUN_FLAG`, and what set-up it got.
pub fn open_with(
    entries: u32,
    tuning: &Tuning,
) -> Result<(IoUring, bool, Tuning), RingError> {
    let mut builder = IoUring::builder();
    builder.setup_single_issuer();
    match (tuning.sqpoll_idle_ms, tuning.task_run) {
        // The kernel refuses COOP_TASKRUN and TASKRUN_FLAG with SQPOLL: its
        // own thread runs the task work.
        (Some(idle), _) => {
            builder.setup_sqpoll(idle);
        }
        (None, TaskRun::Coop) => {
            builder.setup_coop_taskrun().setup_taskrun_flag();
        }
        (None, TaskRun::Defer) => {
            builder.setup_defer_taskrun().setup_taskrun_flag();
        }
    }
    match builder.build(entries) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            log::warn!(
                "ring: the kernel refused {tuning:?} ({e}); using chapter 12's set-up"
            );
            let got = Tuning {
                task_run: TaskRun::Coop,
                sqpoll_idle_ms: None,
                ..*tuning
            };
            open_tuned(entries).map(|ring| (ring, false, got))
        }
        other => other
            .map(|ring| (ring, tuning.sqpoll_idle_ms.is_none(), *tuning))
            .map_err(RingError::from_io),
    }
}
// ANCHOR_END: tuning

/// For tests: a ring, or `None` after a loud message when io_uring is not
/// available here, unless `REQUIRE_IO_URING=1`, which makes that a failure.
pub fn open_or_skip(entries: u32) -> Option<IoUring> {
    match open(entries) {
        Ok(ring) => Some(ring),
        Err(e)
            if std::env::var_os("REQUIRE_IO_URING").is_some_and(|v| v == "1") =>
        {
            panic!("REQUIRE_IO_URING=1 but {e}")
        }
        Err(e) => {
            eprintln!(
                "SKIPPED: io_uring is not usable here, so this test did not run: {e}"
            );
            None
        }
    }
}
