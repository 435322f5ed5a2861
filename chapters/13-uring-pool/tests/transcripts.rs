//! Every transcript in `expected/` is what the program or example prints now.

use std::path::PathBuf;
use transcript::{Run, Vary, check_chapter};

/// An example binary, built by `cargo test` next to the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    debug.join("examples").join(name)
}

#[test]
fn transcripts() {
    if ch13_uring_pool::ring::open_or_skip(8).is_none() {
        return;
    }
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", env!("CARGO_BIN_EXE_ch13-uring-pool")),
            Run::new("example-timer.txt", example("timer")),
            Run::new("example-sub_tasks.txt", example("sub_tasks")),
            Run::new("example-udp.txt", example("udp")),
            Run::new("example-tcp.txt", example("tcp")).vary(Vary::Ports),
            Run::new("example-tcp_serv.txt", example("tcp_serv")).vary(Vary::Ports),
        ],
    );
}
