//! The command line, as a reader uses it: files written beside the input or
//! where `-o` says, `--check`, exit codes, and no damage on failure.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const GOOD: &str = "use crate::fixture::own::{Countdown, Future, PollState};\n\n\
                    pub coroutine fn plain() -> u32 {\n    Countdown::new(4).wait\n}\n";
const BAD: &str = "pub coroutine fn broken() -> u32 {\n    let words = vec![1].len();\n    \
                   let n = Countdown::new(1).wait;\n    words + n\n}\n";

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "corofy-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn corofy(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corofy"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What `corofy --help` prints, as the corofy appendix shows it.
const HELP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/help.txt");

#[test]
fn help_shows_usage_and_an_example() {
    let out = corofy(&["--help"], &scratch());
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(
        help.contains("Usage:")
            && help.contains("Example:")
            && help.contains("--check")
    );
    if transcript::update_requested() {
        std::fs::write(HELP, &help).unwrap();
    }
    let shown = std::fs::read_to_string(HELP).unwrap_or_default();
    assert!(
        shown == help,
        "tests/cli/help.txt is not what `corofy --help` prints; run with UPDATE_EXPECTED=1 \
         and review the diff:\n{}",
        transcript::diff(&shown, &help)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch();
    for args in [
        &[][..],
        &["--frobnicate", "a.coro"],
        &["--target", "tokio", "a.coro"],
        &["missing.coro"],
    ] {
        let out = corofy(args, &dir);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    std::fs::write(dir.join("code.rs"), GOOD).unwrap();
    let out = corofy(&["code.rs"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("would overwrite the input code.rs"));
}

#[test]
fn no_output_overwrites_an_input_however_it_is_named() {
    let dir = scratch();
    std::fs::write(dir.join("a.coro"), GOOD).unwrap();
    std::fs::write(dir.join("b.coro"), GOOD).unwrap();
    std::fs::hard_link(dir.join("b.coro"), dir.join("b-link.coro")).unwrap();
    std::os::unix::fs::symlink("a.coro", dir.join("a-symlink.rs")).unwrap();
    for args in [
        &["a.coro", "-o", "a.coro"][..],
        &["a.coro", "-o", "./a.coro"],
        &["a.coro", "-o", "a-symlink.rs"],
        &["b.coro", "-o", "b-link.coro"],
        // One input's output is another input: refused before anything is written.
        &["a.coro", "a.rs"],
    ] {
        if args.contains(&"a.rs") {
            std::fs::write(dir.join("a.rs"), "// kept\n").unwrap();
        }
        let out = corofy(args, &dir);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("would overwrite the input"),
            "{args:?}: {stderr}"
        );
        for (name, text) in [("a.coro", GOOD), ("b.coro", GOOD)] {
            assert_eq!(
                std::fs::read_to_string(dir.join(name)).unwrap(),
                text,
                "{args:?}"
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("a.rs")).unwrap(),
        "// kept\n"
    );
    // `--check` writes nothing, so comparing against an input's name is only stale.
    let out = corofy(&["--check", "a.coro"], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn writes_the_output_beside_the_input_or_where_asked() {
    let dir = scratch();
    std::fs::write(dir.join("machine.coro"), GOOD).unwrap();
    let out = corofy(&["machine.coro"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.join("machine.rs")).unwrap();
    assert_eq!(
        written,
        corofy::rewrite(GOOD, "machine.coro", None).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("machine.coro")).unwrap(),
        GOOD
    );

    let out = corofy(&["machine.coro", "-o", "elsewhere.rs"], &dir);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("elsewhere.rs")).unwrap(),
        written
    );

    let out = corofy(&["machine.coro", "-o", "-"], &dir);
    assert_eq!(text(&out.stdout), written);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn a_refused_input_points_at_the_mistake_and_damages_nothing() {
    let dir = scratch();
    std::fs::write(dir.join("broken.coro"), BAD).unwrap();
    std::fs::write(dir.join("broken.rs"), "// the previous output\n").unwrap();
    let out = corofy(&["broken.coro"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr
            .starts_with("broken.coro:2:9: error: `words` is used after a `.wait`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 |     let words = vec![1].len();\n  |         ^\n"),
        "{stderr}"
    );
    assert!(stderr.contains("help: write its type"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.rs")).unwrap(),
        "// the previous output\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.coro")).unwrap(),
        BAD
    );
}

#[test]
fn check_passes_when_fresh_and_fails_with_a_diff_when_stale() {
    let dir = scratch();
    std::fs::write(dir.join("m.coro"), GOOD).unwrap();
    assert_eq!(corofy(&["m.coro"], &dir).status.code(), Some(0));
    assert_eq!(corofy(&["--check", "m.coro"], &dir).status.code(), Some(0));

    let stale = std::fs::read_to_string(dir.join("m.rs"))
        .unwrap()
        .replace("Countdown::new(4)", "Countdown::new(5)");
    std::fs::write(dir.join("m.rs"), &stale).unwrap();
    let out = corofy(&["--check", "m.coro"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("m.rs is stale"), "{stderr}");
    let changed = |sign: char, text: &str| {
        stderr
            .lines()
            .any(|l| l.starts_with(sign) && l.contains(text))
    };
    assert!(
        changed('-', "let __awaited = Countdown::new(5);"),
        "{stderr}"
    );
    assert!(
        changed('+', "let __awaited = Countdown::new(4);"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("m.rs")).unwrap(),
        stale,
        "--check writes nothing"
    );

    std::fs::remove_file(dir.join("m.rs")).unwrap();
    assert_eq!(corofy(&["--check", "m.coro"], &dir).status.code(), Some(1));
    assert!(!dir.join("m.rs").exists());
}

#[test]
fn the_target_comes_from_the_file_or_the_command_line_but_they_must_agree() {
    let dir = scratch();
    let with_attr = format!("#![corofy(target = \"waker\")]\n{GOOD}");
    std::fs::write(dir.join("w.coro"), &with_attr).unwrap();
    let out = corofy(&["w.coro", "-o", "-"], &dir);
    assert!(text(&out.stdout).contains("fn poll(&mut self, waker: &Waker)"));
    let out = corofy(&["--target", "std", "w.coro", "-o", "-"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("asks for target `waker` but the command line says `std`")
    );
    std::fs::write(dir.join("s.coro"), GOOD).unwrap();
    let out = corofy(&["--target=std", "s.coro", "-o", "-"], &dir);
    assert!(text(&out.stdout).contains("impl ::std::future::Future for Plain"));
}
