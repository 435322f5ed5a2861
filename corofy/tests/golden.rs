//! The golden corpus: every `tests/corpus/*.coro` gives exactly its committed
//! `.rs` output, or, for the inputs corofy refuses, exactly its `.err` report.
//! `UPDATE_EXPECTED=1 cargo test -p corofy --test golden` rewrites them for review.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "coro"))
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_corpus_input_gives_its_golden_output() {
    let update = transcript::update_requested();
    let mut failures = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for input in corpus() {
        let source = std::fs::read_to_string(&input).unwrap();
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let (actual, golden, stale) = match corofy::rewrite(&source, &name, None) {
            Ok(output) => {
                accepted += 1;
                (
                    output,
                    input.with_extension("rs"),
                    input.with_extension("err"),
                )
            }
            Err(e) => {
                refused += 1;
                (
                    e.render(&name, &source),
                    input.with_extension("err"),
                    input.with_extension("rs"),
                )
            }
        };
        if stale.exists() {
            failures.push(format!(
                "{name}: {} exists, but corofy now gives {}",
                stale.display(),
                golden.display()
            ));
            if update {
                std::fs::remove_file(&stale).unwrap();
            }
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            if update {
                std::fs::write(&golden, &actual).unwrap();
            } else {
                let diff = similar::TextDiff::from_lines(&expected, &actual)
                    .unified_diff()
                    .header("golden", "actual")
                    .to_string();
                failures.push(format!(
                    "{name}: output differs from {}\n{diff}",
                    golden.display()
                ));
            }
        }
    }
    assert!(
        accepted >= 25 && refused >= 10,
        "{accepted} accepted, {refused} refused"
    );
    assert!(
        failures.is_empty() || update,
        "{}\n(UPDATE_EXPECTED=1 rewrites the golden files)",
        failures.join("\n")
    );
}
