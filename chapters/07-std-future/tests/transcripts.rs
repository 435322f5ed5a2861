//! Every transcript in `expected/` is what the program prints now.

use transcript::{Run, Vary, check_chapter};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch07-std-future");

#[test]
fn transcripts() {
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", PROGRAM)
                .vary(Vary::Ports)
                // Events can arrive together or apart, so the poll count
                // varies a little.
                .vary(Vary::Pattern {
                    name: "count",
                    regex: r"\d+ times",
                }),
        ],
    );
}
