//! What the page shows `cargo run` printing is what it prints.

use transcript::{Run, Vary, check_chapter};

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
        ],
    );
}
