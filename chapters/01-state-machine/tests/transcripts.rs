//! Every transcript in `expected/` is what the program prints now.

use transcript::{Run, Vary, check_chapter};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch01-state-machine");

#[test]
fn transcripts() {
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", PROGRAM)
                .vary(Vary::Ports)
                .vary(Vary::Durations)
                .vary(Vary::Pattern {
                    name: "count",
                    regex: r"polled the future \d+ times",
                }),
            // Nothing listens on port 1: the error the reader sees then.
            Run::new("refused.txt", PROGRAM)
                .args(["127.0.0.1:1"])
                .failing(),
        ],
    );
}
