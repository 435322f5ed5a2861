//! Every transcript in `expected/` is what the program prints now.

use transcript::{Run, Vary, check_chapter};

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch03-state-across-waits");

#[test]
fn transcripts() {
    check_chapter(
        env!("CARGO_MANIFEST_DIR"),
        vec![
            Run::new("main.txt", PROGRAM)
                .vary(Vary::Ports)
                .vary(Vary::Pattern {
                    name: "address",
                    regex: r"0x[0-9a-f]+",
                }),
        ],
    );
}
