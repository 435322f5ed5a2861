//! Every transcript in `expected/` is what the program prints now.

use transcript::{Run, Vary, check_chapter};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch05-reactor-waker");

#[test]
fn transcripts() {
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", PROGRAM)
                .vary(Vary::Ports)
                .vary(Vary::Durations)
                // Events can arrive together or apart, and `park` may return
                // early, so the counts of polls and sleeps vary a little.
                .vary(Vary::Pattern {
                    name: "count",
                    regex: r"\d+ times",
                }),
        ],
    );
}
