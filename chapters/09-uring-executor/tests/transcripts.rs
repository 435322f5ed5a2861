//! Every transcript in `expected/` is what the program prints now.

use transcript::{Run, Vary, check_chapter};

#[test]
fn transcripts() {
    if ch09_uring_executor::ring::open_or_skip(8).is_none() {
        return;
    }
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", env!("CARGO_BIN_EXE_ch09-uring-executor"))
                // How the work falls into turns can vary by a call or two.
                .vary(Vary::Pattern {
                    name: "count",
                    regex: r"called \d+ times|submitted \d+ entries",
                }),
        ],
    );
}
