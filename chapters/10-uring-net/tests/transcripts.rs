//! Every transcript in `expected/` is what the program prints now.

use transcript::{Run, Vary, check_chapter};

#[test]
fn transcripts() {
    if ch10_uring_net::ring::open_or_skip(8).is_none() {
        return;
    }
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", env!("CARGO_BIN_EXE_ch10-uring-net"))
                .vary(Vary::Ports),
        ],
    );
}
