//! The benchmark runs, end to end: every server starts, serves and stops,
//! every measurement gives a number, and the report is made from them. In a
//! tiny size (`--quick`), into a temporary folder; the numbers are not
//! looked at, only that each one is there.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::process::Command;

#[test]
fn the_whole_benchmark_runs_in_a_tiny_size() {
    if ch14_performance::ring::open_or_skip(8).is_none() {
        return;
    }
    let tools = ["strace", "taskset"];
    if tools
        .iter()
        .any(|t| Command::new(t).arg("--version").output().is_err())
    {
        assert!(
            std::env::var_os("REQUIRE_IO_URING").is_none(),
            "the benchmark needs strace and taskset (ci/test installs them)"
        );
        eprintln!("SKIPPED: strace or taskset is not installed");
        return;
    }
    let dir =
        std::env::temp_dir().join(format!("ch14-quick-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_ch14-performance"))
        .args(["--quick", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = std::fs::read_to_string(dir.join("results.tsv")).unwrap();
    let tables = std::fs::read_to_string(dir.join("tables.md")).unwrap();
    for name in [
        "ch12",
        "defer",
        "regfd",
        "ring-bufs",
        "recv-multi",
        "ours",
        "sqpoll",
        "pool",
        "tokio-ct",
        "tokio-mt",
        "monoio",
    ] {
        for metric in ["\trate\t", "\tuser_us\t", "\tkernel_us\t", "\tsyscalls\t"] {
            assert!(
                results.lines().any(|l| l.starts_with("echo")
                    && l.contains(metric)
                    && l.server_is(name)),
                "no echo {metric} for {name}"
            );
        }
    }
    for anchor in ["machine", "echo", "ladder", "micro", "targets"] {
        assert!(
            tables.contains(&format!("ANCHOR: {anchor}")),
            "no {anchor} table"
        );
    }
    for plot in ["ch14-echo-rate.svg", "ch14-cpu.svg", "ch14-timers.svg"] {
        let svg = std::fs::read_to_string(dir.join(plot)).unwrap();
        assert!(svg.starts_with("<svg"), "{plot} is not an SVG");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

trait Columns {
    fn server_is(&self, server: &str) -> bool;
}

impl Columns for str {
    /// Whether the line's server column (the fourth) is `server`.
    fn server_is(&self, server: &str) -> bool {
        self.split('\t').nth(3) == Some(server)
    }
}
