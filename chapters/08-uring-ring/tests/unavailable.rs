//! When io_uring is blocked, the reader gets an error that names the cause and
//! the fix. A seccomp filter, installed in a child process just before it runs
//! `uring-check`, makes `io_uring_setup` (syscall 425 on x86_64) fail with the
//! errno a locked-down kernel or container would give.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use ch08_uring_ring::ring::{Cause, RingError};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

const IO_URING_SETUP: u32 = 425;

/// A BPF program: `io_uring_setup` fails with `errno`, everything else runs.
fn filter(errno: i32) -> Vec<libc::sock_filter> {
    let load_nr = libc::sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k: 0, // offsetof(struct seccomp_data, nr)
    };
    let is_setup = libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf: 1,
        k: IO_URING_SETUP,
    };
    let fail = libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA),
    };
    let allow = libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    };
    vec![load_nr, is_setup, fail, allow]
}

/// Runs `uring-check` with `io_uring_setup` failing with `errno`; its stderr.
fn check_blocked_with(errno: i32) -> String {
    let program = filter(errno);
    let mut command = Command::new(env!("CARGO_BIN_EXE_uring-check"));
    // SAFETY: the closure runs in the forked child before exec and only makes
    // two system calls (no allocation, no locks): `program` was built before
    // the fork and is only read.
    unsafe {
        command.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            let rc = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            );
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().unwrap();
    assert!(
        !output.status.success(),
        "uring-check succeeded under the filter"
    );
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn blocked_by_seccomp_with_eperm_names_sysctl_and_seccomp() {
    let message = check_blocked_with(libc::EPERM);
    assert!(
        message.starts_with("error: io_uring is not permitted here"),
        "{message}"
    );
    assert!(message.contains("kernel.io_uring_disabled"), "{message}");
    assert!(message.contains("seccomp profile"), "{message}");
}

#[test]
fn missing_with_enosys_names_the_kernel() {
    let message = check_blocked_with(libc::ENOSYS);
    assert!(
        message.starts_with("error: io_uring is not available"),
        "{message}"
    );
    assert!(message.contains("Linux 5.11 or newer"), "{message}");
}

#[test]
fn every_errno_maps_to_its_cause() {
    for (errno, cause) in [
        (libc::ENOSYS, Cause::Unsupported),
        (libc::EPERM, Cause::NotPermitted),
        (libc::ENOMEM, Cause::NoMemory),
        (libc::EINVAL, Cause::Other),
    ] {
        let e = RingError::from_io(io::Error::from_raw_os_error(errno));
        assert_eq!(e.cause, cause);
        assert!(!e.to_string().is_empty());
    }
    let e = RingError::from_io(io::Error::from_raw_os_error(libc::ENOMEM));
    assert!(e.to_string().contains("ulimit -l"));
}
