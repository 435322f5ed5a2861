//! Every transcript in `expected/` is what the program prints now.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use transcript::{Run, Vary, check_chapter};

#[test]
fn transcripts() {
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", env!("CARGO_BIN_EXE_ch01-state-machine"))
                .vary(Vary::Ports)
                .vary(Vary::Durations)
                .vary(Vary::Pattern {
                    name: "count",
                    regex: r"polled the future \d+ times",
                }),
        ],
    );
}
