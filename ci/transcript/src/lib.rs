//! Transcript tests: the output a page shows is the output the program prints.
//!
//! The mechanism, in one place:
//!
//! * A chapter keeps the output its page shows in `chapters/NN-slug/expected/*.txt`.
//! * The chapter's `tests/transcripts.rs` calls [`check_chapter`] once with one
//!   [`Run`] for every file in that folder. Each run executes a program, and its
//!   standard output is compared with the file. A file in `expected/` that no run
//!   names, or a run whose file is missing, fails the test, so every transcript is
//!   checked by construction.
//! * Only the parts a run declares as varying ([`Vary`]) are normalised, on both
//!   sides, before comparing. The committed file keeps the real text of one run.
//! * `UPDATE_EXPECTED=1 cargo test` rewrites the files whose output really
//!   changed (not those that differ only in declared varying parts), for review
//!   with `git diff`.
//!
//! The book checker accepts an output block on a page only when it includes a file
//! from `chapters/*/expected/` of a chapter that has `tests/transcripts.rs`.

use regex::Regex;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The one switch that makes every check of a committed output (transcripts,
/// `CHANGES.diff` files, corofy's golden corpus) rewrite the files that
/// changed instead of failing: `UPDATE_EXPECTED=1`. Unset, or any other
/// value, checks.
pub const UPDATE_VAR: &str = "UPDATE_EXPECTED";

/// Whether this run should rewrite committed outputs: see [`UPDATE_VAR`].
pub fn update_requested() -> bool {
    std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1")
}

/// A part of the output that legitimately differs between runs.
#[derive(Debug, Clone)]
pub enum Vary {
    /// Durations such as `12ms`, `1.5 s`, `250.3µs`.
    Durations,
    /// The port in `127.0.0.1:PORT`.
    Ports,
    /// Whatever matches this regular expression (for example a count that
    /// depends on timing). Every match is replaced by `<name>`.
    Pattern {
        name: &'static str,
        regex: &'static str,
    },
}

impl Vary {
    fn rule(&self) -> (Regex, String) {
        let (regex, replacement) = match self {
            Vary::Durations => (
                r"\b\d+(\.\d+)?\s?(ns|µs|us|ms|s)\b".to_string(),
                "<duration>".to_string(),
            ),
            Vary::Ports => (
                r"127\.0\.0\.1:\d+".to_string(),
                "127.0.0.1:<port>".to_string(),
            ),
            Vary::Pattern { name, regex } => {
                (regex.to_string(), format!("<{name}>"))
            }
        };
        let compiled = Regex::new(&regex).unwrap_or_else(|e| {
            panic!("transcript: bad normalising pattern {regex:?}: {e}")
        });
        (compiled, replacement)
    }
}

/// One program run whose standard output must match `expected/<file>`.
#[derive(Debug)]
pub struct Run {
    file: String,
    command: Command,
    vary: Vec<Vary>,
    /// Whether the program is expected to fail; then what it printed on
    /// stdout and stderr together, in order, is compared.
    failing: bool,
}

impl Run {
    /// Runs `program` (usually `env!("CARGO_BIN_EXE_<name>")`) and compares its
    /// output with `expected/<file>`.
    pub fn new(file: &str, program: impl AsRef<std::ffi::OsStr>) -> Self {
        let mut command = Command::new(program);
        // Diagnostics go to stderr and are not part of a transcript; make sure
        // a RUST_LOG set by the person running the tests cannot change stdout.
        command.env_remove("RUST_LOG");
        Run {
            file: file.to_string(),
            command,
            vary: Vec::new(),
            failing: false,
        }
    }

    /// Expects the program to exit with a failure status, and compares what it
    /// printed on stdout and stderr (its error message) together, in the order
    /// it printed them, as a reader sees them in a terminal.
    pub fn failing(mut self) -> Self {
        self.failing = true;
        self
    }

    /// Adds command-line arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Declares a part of the output that varies from run to run.
    pub fn vary(mut self, vary: Vary) -> Self {
        self.vary.push(vary);
        self
    }
}

/// Replaces every declared varying part by a placeholder.
pub fn normalise(text: &str, vary: &[Vary]) -> String {
    let mut text = text.replace("\r\n", "\n");
    for v in vary {
        let (regex, replacement) = v.rule();
        text = regex.replace_all(&text, replacement.as_str()).into_owned();
    }
    text
}

/// A readable line diff of two texts, `-` for expected and `+` for actual.
pub fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected (committed transcript)", "actual (this run)")
        .to_string()
}

/// Checks every transcript of the chapter in `chapter_dir` (pass
/// `env!("CARGO_MANIFEST_DIR")`). Panics with a diff for each mismatch.
pub fn check_chapter(chapter_dir: &str, runs: Vec<Run>) {
    if let Err(report) = check(Path::new(chapter_dir), runs, update_requested()) {
        panic!("{report}");
    }
}

/// The work behind [`check_chapter`], returning the report instead of panicking.
pub fn check(
    chapter_dir: &Path,
    runs: Vec<Run>,
    update: bool,
) -> Result<(), String> {
    let expected_dir = chapter_dir.join("expected");
    let mut report = String::new();
    let on_disk = transcript_files(&expected_dir)?;
    let named: BTreeSet<String> = runs.iter().map(|r| r.file.clone()).collect();
    for unchecked in on_disk.difference(&named) {
        let _ = writeln!(
            report,
            "{}: no run in tests/transcripts.rs checks this transcript; add a Run for it or delete it",
            expected_dir.join(unchecked).display()
        );
    }
    for run in runs {
        if let Err(problem) = check_run(&expected_dir, run, update) {
            report.push_str(&problem);
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

fn transcript_files(dir: &Path) -> Result<BTreeSet<String>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files = BTreeSet::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".txt") {
            files.insert(name);
        }
    }
    Ok(files)
}

fn check_run(
    expected_dir: &Path,
    mut run: Run,
    update: bool,
) -> Result<(), String> {
    let path: PathBuf = expected_dir.join(&run.file);
    let output = if run.failing {
        merged_output(&mut run.command)
    } else {
        run.command.output()
    }
    .map_err(|e| {
        format!("{}: cannot run {:?}: {e}\n", path.display(), run.command)
    })?;
    if output.status.success() == run.failing {
        let expected = if run.failing { "fail" } else { "succeed" };
        return Err(format!(
            "{}: {:?} was expected to {expected} but exited with {}; it printed:\n{}{}\n",
            path.display(),
            run.command,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let shown = output.stdout;
    let actual = String::from_utf8(shown).map_err(|_| {
        format!("{}: the program printed invalid UTF-8\n", path.display())
    })?;
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    let (want, got) = (
        normalise(&expected, &run.vary),
        normalise(&actual, &run.vary),
    );
    if want == got {
        return Ok(());
    }
    if update {
        std::fs::write(&path, &actual)
            .map_err(|e| format!("{}: cannot write: {e}\n", path.display()))?;
        eprintln!("transcript: rewrote {}", path.display());
        return Ok(());
    }
    Err(format!(
        "{}: the output differs from the transcript (varying parts shown as <...>).\n\
         If the new output is right, run `{UPDATE_VAR}=1 cargo test` and review `git diff`.\n{}\n",
        path.display(),
        diff(&want, &got)
    ))
}

/// Runs `command` with its stdout and stderr going into one pipe, so that what
/// it printed comes back in the order it printed it (in `stdout`; `stderr` is
/// empty).
fn merged_output(command: &mut Command) -> std::io::Result<std::process::Output> {
    use std::io::Read;
    let (mut reader, writer) = std::io::pipe()?;
    command.stdout(writer.try_clone()?).stderr(writer);
    let mut child = command.spawn()?;
    // The command keeps its copies of the writing end until it is told
    // otherwise; without this the read below would never see the end.
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut stdout = Vec::new();
    reader.read_to_end(&mut stdout)?;
    let status = child.wait()?;
    Ok(std::process::Output {
        status,
        stdout,
        stderr: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_only_declared_parts() {
        let text =
            "listening on 127.0.0.1:41234\ndone in 1.25s after 300 ms, 7 polls\n";
        assert_eq!(
            normalise(text, &[Vary::Ports]),
            "listening on 127.0.0.1:<port>\ndone in 1.25s after 300 ms, 7 polls\n"
        );
        let all = [
            Vary::Ports,
            Vary::Durations,
            Vary::Pattern {
                name: "polls",
                regex: r"\d+ polls",
            },
        ];
        assert_eq!(
            normalise(text, &all),
            "listening on 127.0.0.1:<port>\ndone in <duration> after <duration>, <polls>\n"
        );
    }

    #[test]
    fn diff_marks_changed_lines() {
        let d = diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b\n") && d.contains("+B\n"), "{d}");
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("transcript-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("expected")).unwrap();
        dir
    }

    fn echo(file: &str, text: &str) -> Run {
        Run::new(file, "printf").args(["%s", text])
    }

    #[test]
    fn matching_output_passes_and_mismatch_shows_a_diff() {
        let dir = scratch("match");
        std::fs::write(dir.join("expected/out.txt"), "took 5ms\nok\n").unwrap();
        let ok = echo("out.txt", "took 17ms\nok\n").vary(Vary::Durations);
        assert_eq!(check(&dir, vec![ok], false), Ok(()));
        let bad = echo("out.txt", "took 17ms\nnot ok\n").vary(Vary::Durations);
        let report = check(&dir, vec![bad], false).unwrap_err();
        assert!(report.contains("-ok\n+not ok\n"), "{report}");
        assert!(report.contains("UPDATE_EXPECTED=1"), "{report}");
    }

    #[test]
    fn a_failing_run_compares_both_streams_in_order_and_needs_a_failure() {
        let dir = scratch("failing");
        let shown = "starting\nerror: no\nafter\n";
        std::fs::write(dir.join("expected/err.txt"), shown).unwrap();
        let fails = Run::new("err.txt", "sh")
            .args([
                "-c",
                "echo starting; echo 'error: no' >&2; echo after; exit 1",
            ])
            .failing();
        assert_eq!(check(&dir, vec![fails], false), Ok(()));
        let succeeds =
            Run::new("err.txt", "sh").args(["-c", "echo 'error: no' >&2"]);
        let report = check(&dir, vec![succeeds.failing()], false).unwrap_err();
        assert!(report.contains("was expected to fail"), "{report}");
    }

    #[test]
    fn an_unchecked_transcript_fails() {
        let dir = scratch("unchecked");
        std::fs::write(dir.join("expected/a.txt"), "a\n").unwrap();
        std::fs::write(dir.join("expected/orphan.txt"), "x\n").unwrap();
        let report = check(&dir, vec![echo("a.txt", "a\n")], false).unwrap_err();
        assert!(report.contains("orphan.txt: no run"), "{report}");
    }

    #[test]
    fn update_rewrites_only_real_changes() {
        let dir = scratch("update");
        let file = dir.join("expected/out.txt");
        std::fs::write(&file, "took 5ms\n").unwrap();
        let same = echo("out.txt", "took 9ms\n").vary(Vary::Durations);
        check(&dir, vec![same], true).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "took 5ms\n");
        let changed = echo("out.txt", "took 9ms\nmore\n").vary(Vary::Durations);
        check(&dir, vec![changed], true).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "took 9ms\nmore\n");
    }
}
