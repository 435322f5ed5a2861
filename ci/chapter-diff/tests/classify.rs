//! What `changes` puts where, on two small made-up chapters: each kind of
//! file (library source, programs, exercises, tests, transcripts,
//! measurements, generated `.rs`) and each kind of change (new, removed,
//! changed, unchanged, a module grown into a folder) once.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::path::{Path, PathBuf};

/// A chapter folder `name` under a fresh temporary `chapters/`, holding
/// `files` (path, text).
fn chapter(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn parts(out: &str) -> (String, String) {
    let between = |start: &str, end: &str| {
        let from = out.find(start).unwrap() + start.len();
        let to = out.find(end).unwrap();
        out[from..to].to_string()
    };
    (
        between("# ANCHOR: stat\n", "# ANCHOR_END: stat"),
        between("# ANCHOR: diff\n", "# ANCHOR_END: diff"),
    )
}

#[test]
fn library_source_is_diffed_and_everything_else_is_only_named() {
    let root =
        std::env::temp_dir().join(format!("chapter-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let common = "[package]\nname = \"x\"\n";
    let prev = chapter(
        &root,
        "01-before",
        &[
            ("Cargo.toml", common),
            (
                "src/lib.rs",
                "pub mod executor;\n// ANCHOR: top\nfn same() {}\n// ANCHOR_END: top\n",
            ),
            ("src/executor.rs", "pub fn run() {}\npub fn spin() {}\n"),
            ("src/gone.rs", "pub fn old() {}\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/exercises.rs", "pub fn one() {}\n"),
            ("tests/old.rs", "#[test]\nfn t() {}\n"),
            ("expected/main.txt", "hello\n"),
            ("results/bench.md", "1.0x\n"),
            ("src/gen.coro", "coroutine fn f() {}\n"),
            ("src/gen.rs", "struct F;\n"),
        ],
    );
    let next = chapter(
        &root,
        "02-after",
        &[
            ("Cargo.toml", common),
            // Only the anchors moved: not a change of the code.
            ("src/lib.rs", "pub mod executor;\nfn same() {}\n"),
            ("src/executor/mod.rs", "pub fn run() {}\npub fn park() {}\n"),
            ("src/executor/queue.rs", "pub struct Queue;\n"),
            ("src/main.rs", "fn main() { println!(); }\n"),
            ("src/exercises.rs", "pub fn one() {}\npub fn two() {}\n"),
            ("tests/new.rs", "#[test]\nfn u() {}\n"),
            ("expected/main.txt", "hello again\n"),
            ("results/bench.md", "2.0x\n"),
            ("src/gen.coro", "coroutine fn f() {}\n"),
            ("src/gen.rs", "struct G;\n"),
        ],
    );
    let out = chapter_diff::changes(&prev, &next).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    let (stat, diff) = parts(&out);

    // The library's rows: the move with its counts, the new and the removed file.
    let row = |kind: &str, path: &str, counts: &str| {
        stat.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.first() == Some(&kind)
                && l.contains(path)
                && l.trim_end().ends_with(counts)
        })
    };
    assert!(
        row("moved", "src/executor.rs -> src/executor/mod.rs", "+1 -1"),
        "{stat}"
    );
    assert!(row("new", "src/executor/queue.rs", "1 lines"), "{stat}");
    assert!(row("removed", "src/gone.rs", "1 lines"), "{stat}");
    // Around it: programs, exercises and tests, named once each.
    let around = &stat[stat.find("Around it").unwrap()..];
    for (kind, path) in [
        ("changed", "src/main.rs"),
        ("changed", "src/exercises.rs"),
        ("new", "tests/new.rs"),
        ("removed", "tests/old.rs"),
    ] {
        let line = around
            .lines()
            .find(|l| l.contains(path))
            .unwrap_or_else(|| {
                panic!("{path} is not named around the library:\n{stat}")
            });
        assert!(
            line.trim_start().starts_with(kind),
            "{path} is not `{kind}`: {line}"
        );
    }
    // Left out entirely: unchanged code (anchors do not count), transcripts,
    // measurements, the `.rs` a `.coro` generates, and the manifest.
    for absent in [
        "src/lib.rs",
        "expected/",
        "results/",
        "src/gen",
        "Cargo.toml",
    ] {
        assert!(!out.contains(absent), "{absent} should not be in:\n{out}");
    }

    // The diff: the moved module against its old file, and nothing else.
    assert!(
        diff.contains(
            "--- 01-before/src/executor.rs\n+++ 02-after/src/executor/mod.rs\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("-pub fn spin() {}\n+pub fn park() {}\n"),
        "{diff}"
    );
    assert_eq!(
        diff.matches("\n--- ").count() + usize::from(diff.starts_with("--- ")),
        1
    );
    for absent in ["main.rs", "exercises", "queue.rs", "gone.rs", "tests/"] {
        assert!(
            !diff.contains(absent),
            "{absent} should not be diffed:\n{diff}"
        );
    }
}

#[test]
fn a_chapter_that_changes_no_library_file_says_so() {
    let root = std::env::temp_dir()
        .join(format!("chapter-diff-same-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let files = [
        ("Cargo.toml", "[package]\n"),
        ("src/lib.rs", "pub fn f() {}\n"),
    ];
    let prev = chapter(&root, "01-a", &files);
    let next = chapter(&root, "02-b", &files);
    let out = chapter_diff::changes(&prev, &next).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    let (stat, diff) = parts(&out);
    assert_eq!(stat.matches("(unchanged)").count(), 2, "{stat}");
    assert!(
        diff.starts_with("# No file of the library's source changed"),
        "{diff}"
    );
}
