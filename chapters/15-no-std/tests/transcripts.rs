//! What the page shows the programs printing is what they print.

use transcript::{Run, Vary, check_chapter};

mod bare;

#[test]
fn the_demo_prints_what_the_page_shows() {
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", env!("CARGO_BIN_EXE_ch15-no-std")).vary(
                Vary::Pattern {
                    name: "sleeps",
                    regex: r"slept \d+ times",
                },
            ),
            // The program without std that `tests/no_std.rs` checks too.
            Run::new("bare.txt", bare::build()),
        ],
    );
}
