//! An idle pool sleeps instead of spinning: its four threads (two workers,
//! the ring thread, the one in `block_on`) use next to no CPU during a long
//! sleep. Alone in its file, so that the process's CPU time is the pool's.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch13_uring_pool::executor::pool_or_skip;
use ch13_uring_pool::time::sleep;
use std::time::Duration;

/// CPU time this process has used so far (user and system).
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid
    // starting value for it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64)
            + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[test]
fn an_idle_pool_sleeps_instead_of_spinning() {
    let Some(pool) = pool_or_skip(2) else {
        return;
    };
    let before = cpu_time();
    pool.block_on(sleep(Duration::from_millis(500))).unwrap();
    let used = cpu_time() - before;
    // Spinning, the four threads would use about two seconds of CPU (two
    // cores, half a second); sleeping, they use next to nothing.
    assert!(
        used < Duration::from_millis(100),
        "{used:?} of CPU while idle"
    );
}
