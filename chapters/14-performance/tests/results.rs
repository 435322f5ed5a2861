//! The tables and plots the page shows are what the committed results file
//! makes: nobody typed or edited a number.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::process::Command;

#[test]
fn the_tables_and_plots_are_made_from_the_committed_results() {
    let out = Command::new(env!("CARGO_BIN_EXE_ch14-performance"))
        .args(["report", "--check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
