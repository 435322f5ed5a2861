//! The book checker: the gate that makes "shown = tested" mechanical.
//!
//! mdBook renders a missing anchor as an empty code block and a missing file as
//! raw `{{#include}}` text, and exits 0 either way. This crate reads the book's
//! Markdown and the files it includes and reports, as `path:line: message`:
//!
//! * a ```` ```rust ```` block with anything but `{{#include}}` /
//!   `{{#rustdoc_include}}` lines in it (code must come from a chapter crate);
//! * an include of a file that does not exist, or that lies outside `chapters/`
//!   and `corofy/`;
//! * an anchor that is missing, has no `ANCHOR_END`, or has nothing in it;
//! * a line-range include (`file.rs:10:20`): anchors only;
//! * an output block (```` ```text ````, ```` ```console ````, ```` ```output ````
//!   or no language) that is not an include of a transcript a test checks: a file
//!   in `chapters/<chapter>/expected/` of a chapter whose `tests/transcripts.rs`
//!   calls `transcript::check_chapter` (see the `transcript` crate), one of
//!   corofy's golden error reports (`corofy/tests/corpus/*.err`), what its
//!   command line prints (`corofy/tests/cli/*.txt`, checked by `tests/cli.rs`), or a
//!   compiler error that trybuild checks (`chapters/<chapter>/tests/ui/*.stderr`
//!   of a chapter with a test that runs `compile_fail("tests/ui/...")`);
//! * a chapter crate that no page includes anything from (`chapters/support/`
//!   is exempt);
//! * an image that does not exist, and a `{{#...}}` directive mdBook would not
//!   expand the way we want (unknown, misspelt or `playground`);
//! * a "what changed" section that includes a chapter's `CHANGES.diff` whole,
//!   leaves its diff unfolded, or whose summary does not name every file of
//!   the library's source that changed (see `changes.rs`);
//! * prose that names a chapter that does not exist, a backticked file path
//!   that is in neither the page's chapter nor the repository, or "the test
//!   `name`" that is no function in the page's chapter crate (see `prose.rs`).

mod changes;
mod prose;

// `normalise`: `.` and `..` resolved without the file system, so a path to a
// missing file can still be judged; the same resolution the captions make.
use listing_captions::normalise;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// One problem, located in a file of the repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Relative to the repository root.
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// What a clean run looked at, for the summary line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub pages: usize,
    pub includes: usize,
    pub transcripts: usize,
}

/// Languages whose blocks show a program's output.
const OUTPUT_LANGUAGES: &[&str] =
    &["", "text", "txt", "console", "output", "plain"];
/// Folders (relative to the root) that code may be included from.
const INCLUDE_ROOTS: &[&str] = &["chapters", "corofy"];
/// The file that makes a chapter's `expected/` transcripts tested.
const TRANSCRIPT_TEST: &str = "tests/transcripts.rs";

static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\?\{\{\s*#([A-Za-z_]+)\s*([^}]*)\}\}").expect("valid regex")
});
static ANY_DIRECTIVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*#").expect("valid regex"));
static ANCHOR_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR:\s*([\w-]+)").expect("valid regex"));
static ANCHOR_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR_END:\s*([\w-]+)").expect("valid regex"));
static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img\s[^>]*src="([^"]+)""#)
        .expect("valid regex")
});

/// Checks the book under `root/book/src` against the files under `root`.
pub fn check(root: &Path) -> io::Result<(Vec<Diagnostic>, Stats)> {
    let root = std::fs::canonicalize(root).map_err(|e| {
        io::Error::new(e.kind(), format!("cannot open {}: {e}", root.display()))
    })?;
    let mut checker = Checker {
        root: root.clone(),
        diagnostics: Vec::new(),
        stats: Stats::default(),
        included_crates: BTreeSet::new(),
        anchor_files_checked: BTreeSet::new(),
        prose: prose::Prose::new(&root),
    };
    let src = root.join("book/src");
    if !src.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} is not a directory; run book-check from the repository root",
                src.display()
            ),
        ));
    }
    for page in markdown_files(&src)? {
        checker.check_page(&page)?;
    }
    checker.check_every_chapter_is_shown()?;
    checker.diagnostics.sort();
    checker.diagnostics.dedup();
    Ok((checker.diagnostics, checker.stats))
}

fn markdown_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A code block of a page, as mdBook's Markdown parser sees it.
#[derive(Debug)]
struct Block {
    /// The fence's language (`rust`, `console`, ...); `None` for a block
    /// made by indenting the lines four spaces.
    language: Option<String>,
    /// First and last line (1-based) of the whole block, fences included.
    first: usize,
    last: usize,
    /// Whether the block ends with a closing fence.
    closed: bool,
    /// Lines that are include directives.
    includes: usize,
    /// Whether any line of the body is not blank.
    has_text: bool,
}

impl Block {
    fn is_rust(&self) -> bool {
        self.language
            .as_deref()
            .is_some_and(|l| l.starts_with("rust"))
    }
    fn is_output(&self) -> bool {
        self.language
            .as_deref()
            .is_some_and(|l| OUTPUT_LANGUAGES.contains(&l))
    }
    /// Whether line `number` is part of the block's body (not a fence).
    fn body_has(&self, number: usize) -> bool {
        let fenced = self.language.is_some();
        let after_open = !fenced || number > self.first;
        let before_close = !self.closed || number < self.last;
        (self.first..=self.last).contains(&number) && after_open && before_close
    }
}

/// The code blocks of a page, found with pulldown-cmark, the parser mdBook
/// itself uses, so that what counts as a code block here is what renders as
/// one (fences inside lists and HTML, four-space indented blocks, and so on).
fn code_blocks(text: &str) -> Vec<Block> {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut blocks = Vec::new();
    for (event, range) in Parser::new_ext(text, Options::all()).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(kind)) = event else {
            continue;
        };
        let source = &text[range.clone()];
        let last_line = source.trim_end_matches('\n').lines().last().unwrap_or("");
        let language = match kind {
            CodeBlockKind::Fenced(info) => Some(
                info.split(|c: char| c == ',' || c.is_whitespace())
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            CodeBlockKind::Indented => None,
        };
        let fence = source.trim_start().chars().next().unwrap_or('`');
        let closed = language.is_some()
            && source.trim_end().lines().count() > 1
            && last_line.trim().starts_with(fence)
            && last_line.trim().chars().all(|c| c == fence);
        blocks.push(Block {
            language,
            first: line_of(range.start),
            last: line_of(range.start + source.trim_end_matches('\n').len()),
            closed,
            includes: 0,
            has_text: false,
        });
    }
    blocks
}

/// The parsed argument of an include directive.
enum Selection<'a> {
    Whole,
    Anchor(&'a str),
    Lines,
}

fn parse_include_argument(argument: &str) -> (&str, Selection<'_>) {
    let mut parts = argument.split(':');
    let path = parts.next().unwrap_or_default().trim();
    let rest: Vec<&str> = parts.map(str::trim).collect();
    let selection = match rest.as_slice() {
        [] => Selection::Whole,
        [anchor]
            if !anchor.is_empty()
                && !anchor.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Selection::Anchor(anchor)
        }
        _ => Selection::Lines,
    };
    (path, selection)
}

struct Checker {
    root: PathBuf,
    diagnostics: Vec<Diagnostic>,
    stats: Stats,
    /// Chapter folder names that some page includes from.
    included_crates: BTreeSet<String>,
    anchor_files_checked: BTreeSet<PathBuf>,
    prose: prose::Prose,
}

impl Checker {
    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root).unwrap_or(path).to_path_buf()
    }

    fn report(&mut self, path: &Path, line: usize, message: impl Into<String>) {
        let path = self.relative(path);
        self.diagnostics.push(Diagnostic {
            path,
            line,
            message: message.into(),
        });
    }

    fn check_page(&mut self, page: &Path) -> io::Result<()> {
        self.stats.pages += 1;
        let text = std::fs::read_to_string(page)?;
        let mut blocks = code_blocks(&text);
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let block = blocks
                .iter_mut()
                .find(|b| (b.first..=b.last).contains(&number));
            match block {
                None => {
                    self.check_directives(page, number, line, None);
                    self.check_images(page, number, line);
                    for problem in self.prose.check_line(page, line) {
                        self.report(page, number, problem);
                    }
                }
                Some(block) if block.language.is_none() => {
                    if number == block.first {
                        self.report(
                            page,
                            number,
                            "indented code block: it renders as code that no test \
                             checks; use a fenced block with an {{#include}} (or \
                             ```sh for commands)",
                        );
                    }
                }
                Some(block) if !block.body_has(number) => {}
                Some(block) => {
                    let is_include =
                        self.check_directives(page, number, line, Some(block));
                    block.has_text |= !line.trim().is_empty();
                    if is_include {
                        block.includes += 1;
                    } else if !line.trim().is_empty() {
                        let (rust, output) = (block.is_rust(), block.is_output());
                        if rust {
                            self.report(
                                page,
                                number,
                                "Rust typed into the page: a ```rust block may only \
                                 hold {{#include file:anchor}} lines from a chapter crate",
                            );
                        } else if output {
                            self.report(
                                page,
                                number,
                                "output typed into the page: include a transcript from \
                                 chapters/<chapter>/expected/ that the chapter's \
                                 tests/transcripts.rs checks (use ```sh for commands)",
                            );
                        }
                    }
                }
            }
        }
        for block in blocks.iter().filter(|b| b.language.is_some()) {
            self.check_block_end(page, block);
        }
        // A listing says what it is for before it starts: never straight
        // after a heading.
        let lines: Vec<&str> = text.lines().collect();
        for block in blocks.iter().filter(|b| b.is_rust() && b.includes > 0) {
            let before = lines[..block.first.saturating_sub(1)]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty());
            if before.is_some_and(|l| l.trim_start().starts_with('#')) {
                self.report(
                    page,
                    block.first,
                    "a listing right after a heading: say in a sentence what it shows \
                     and why, first",
                );
            }
        }
        for (number, problem) in
            changes::check(page.parent().unwrap_or(Path::new("")), &text)
        {
            self.report(page, number, problem);
        }
        Ok(())
    }

    fn check_block_end(&mut self, page: &Path, block: &Block) {
        if !block.closed {
            self.report(page, block.first, "code block is never closed");
        }
        if !block.has_text && (block.is_rust() || block.is_output()) {
            let what = if block.is_rust() { "```rust" } else { "output" };
            self.report(
                page,
                block.first,
                format!("empty {what} block: it renders as an empty box"),
            );
        }
    }

    /// Checks every directive on the line; returns true when the line consists
    /// of one include directive and nothing else.
    fn check_directives(
        &mut self,
        page: &Path,
        number: usize,
        line: &str,
        fence: Option<&Block>,
    ) -> bool {
        let mut matched_spans = Vec::new();
        let mut only_include = false;
        for capture in DIRECTIVE.captures_iter(line) {
            let whole = capture.get(0).expect("group 0 always matches");
            matched_spans.push(whole.start());
            if whole.as_str().starts_with('\\') {
                continue; // escaped: mdBook prints it literally
            }
            let name = &capture[1];
            let argument = capture[2].trim();
            match name {
                "include" | "rustdoc_include" => {
                    self.check_include(page, number, argument, fence);
                    only_include = line.trim() == whole.as_str();
                }
                "title" => {}
                "playground" => self.report(
                    page,
                    number,
                    "{{#playground}} makes a runnable block, but our code needs crates \
                     the playground lacks: use {{#include file:anchor}}",
                ),
                other => self.report(
                    page,
                    number,
                    format!(
                        "unknown directive {{{{#{other}}}}}: mdBook would leave it as raw text"
                    ),
                ),
            }
        }
        for stray in ANY_DIRECTIVE.find_iter(line) {
            let escaped =
                stray.start() > 0 && line.as_bytes()[stray.start() - 1] == b'\\';
            if !escaped && !matched_spans.iter().any(|&s| s == stray.start()) {
                self.report(
                    page,
                    number,
                    "malformed {{#...}} directive: mdBook would leave it as raw text",
                );
            }
        }
        only_include
    }

    fn check_include(
        &mut self,
        page: &Path,
        number: usize,
        argument: &str,
        fence: Option<&Block>,
    ) {
        self.stats.includes += 1;
        let (relative, selection) = parse_include_argument(argument);
        let base = page.parent().unwrap_or(Path::new(""));
        let target = normalise(&base.join(relative));
        let shown = self.relative(&target);
        let inside = INCLUDE_ROOTS
            .iter()
            .any(|allowed| target.starts_with(self.root.join(allowed)));
        if !inside {
            self.report(
                page,
                number,
                format!(
                    "includes {}, which is outside chapters/ and corofy/: pages may only \
                     show code that a crate compiles",
                    shown.display()
                ),
            );
            return;
        }
        if !target.is_file() {
            self.report(
                page,
                number,
                format!("included file {} does not exist", shown.display()),
            );
            return;
        }
        if let Some(chapter) = shown.iter().nth(1).and_then(|c| c.to_str())
            && shown.starts_with("chapters")
        {
            self.included_crates.insert(chapter.to_string());
        }
        if fence.is_some_and(Block::is_output) {
            self.check_transcript(page, number, &shown);
        }
        let contents = match std::fs::read_to_string(&target) {
            Ok(contents) => contents,
            Err(e) => {
                self.report(
                    page,
                    number,
                    format!("cannot read {}: {e}", shown.display()),
                );
                return;
            }
        };
        self.check_anchors_balanced(&target, &contents);
        match selection {
            Selection::Whole => {}
            Selection::Lines => self.report(
                page,
                number,
                format!(
                    "line-range include {{{{#include {argument}}}}}: line numbers break \
                     silently when the code moves; mark the lines with ANCHOR/ANCHOR_END \
                     and include by anchor name"
                ),
            ),
            Selection::Anchor(anchor) => {
                if let Err(problem) = anchored_text(&contents, anchor) {
                    self.report(
                        page,
                        number,
                        format!("anchor `{anchor}` in {}: {problem}", shown.display()),
                    );
                }
            }
        }
    }

    /// Whether a test of `chapter` has trybuild check `tests/ui`.
    fn runs_trybuild(&self, chapter: &str) -> bool {
        let tests = self.root.join("chapters").join(chapter).join("tests");
        std::fs::read_dir(tests)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                std::fs::read_to_string(entry.path())
                    .is_ok_and(|text| text.contains("compile_fail(\"tests/ui/"))
            })
    }

    fn check_transcript(&mut self, page: &Path, number: usize, shown: &Path) {
        let parts: Vec<_> = shown.iter().filter_map(|c| c.to_str()).collect();
        let explanation = "transcripts live in chapters/<chapter>/expected/*.txt and are \
                           compared with the program's output by that chapter's \
                           tests/transcripts.rs";
        // corofy's refusals: its golden test compares every `.err` file with
        // what corofy prints for the `.coro` file beside it.
        if let ["corofy", "tests", "corpus", file] = parts.as_slice()
            && file.ends_with(".err")
        {
            self.stats.transcripts += 1;
            return;
        }
        // corofy's command line: `tests/cli.rs` compares each file it names
        // in `tests/cli/` with what corofy prints.
        if let ["corofy", "tests", "cli", file] = parts.as_slice()
            && std::fs::read_to_string(self.root.join("corofy/tests/cli.rs"))
                .is_ok_and(|t| t.contains(&format!("/tests/cli/{file}")))
        {
            self.stats.transcripts += 1;
            return;
        }
        // Compiler errors: trybuild compares each `.stderr` in tests/ui with
        // what rustc says about the `.rs` beside it.
        if let ["chapters", chapter, "tests", "ui", file] = parts.as_slice()
            && file.ends_with(".stderr")
            && self.runs_trybuild(chapter)
        {
            self.stats.transcripts += 1;
            return;
        }
        let ["chapters", chapter, "expected", file] = parts.as_slice() else {
            self.report(
                page,
                number,
                format!(
                    "output block includes {}, which is not a transcript ({explanation})",
                    shown.display()
                ),
            );
            return;
        };
        let test = self
            .root
            .join("chapters")
            .join(chapter)
            .join(TRANSCRIPT_TEST);
        let tested = std::fs::read_to_string(&test).is_ok_and(|t| {
            t.contains("check_chapter") && t.contains(&format!("\"{file}\""))
        });
        if tested {
            self.stats.transcripts += 1;
        } else {
            self.report(
                page,
                number,
                format!(
                    "output block includes {}, but chapters/{chapter}/{TRANSCRIPT_TEST} does \
                     not check it ({explanation})",
                    shown.display()
                ),
            );
        }
    }

    /// Every `ANCHOR: x` in an included file has an `ANCHOR_END: x` after it.
    fn check_anchors_balanced(&mut self, file: &Path, contents: &str) {
        if !self.anchor_files_checked.insert(file.to_path_buf()) {
            return;
        }
        let mut open: BTreeMap<String, usize> = BTreeMap::new();
        for (index, line) in contents.lines().enumerate() {
            if let Some(end) = ANCHOR_END.captures(line) {
                if open.remove(&end[1]).is_none() {
                    self.report(
                        file,
                        index + 1,
                        format!(
                            "ANCHOR_END: {} has no ANCHOR: {} before it",
                            &end[1], &end[1]
                        ),
                    );
                }
            } else if let Some(start) = ANCHOR_START.captures(line)
                && let Some(previous) = open.insert(start[1].to_string(), index + 1)
            {
                self.report(
                    file,
                    previous,
                    format!(
                        "ANCHOR: {} is opened again before its ANCHOR_END",
                        &start[1]
                    ),
                );
            }
        }
        for (name, line) in open {
            self.report(
                file,
                line,
                format!(
                    "ANCHOR: {name} has no ANCHOR_END: {name} (unbalanced anchor)"
                ),
            );
        }
    }

    fn check_images(&mut self, page: &Path, number: usize, line: &str) {
        for capture in IMAGE.captures_iter(line) {
            let Some(src) = capture.get(1).or(capture.get(2)) else {
                continue;
            };
            let src = src.as_str();
            if src.contains("://") || src.starts_with("data:") {
                self.report(
                    page,
                    number,
                    format!("image {src} is not a committed file: the book must work offline"),
                );
                continue;
            }
            let target =
                normalise(&page.parent().unwrap_or(Path::new("")).join(src));
            if !target.is_file() {
                let shown = self.relative(&target);
                self.report(
                    page,
                    number,
                    format!("image {} does not exist", shown.display()),
                );
            }
        }
    }

    /// A chapter crate's `lib.rs` header opens with its own chapter
    /// (`//! Chapter 9:` in `chapters/09-...`): a crate copied forward must
    /// not go on saying it is the chapter it was copied from.
    fn check_chapter_header(&mut self, dir: &Path, name: &str) {
        let Some(number) = name
            .split_once('-')
            .and_then(|(n, _)| n.parse::<u32>().ok())
        else {
            return;
        };
        let lib = dir.join("src/lib.rs");
        let Ok(text) = std::fs::read_to_string(&lib) else {
            return;
        };
        let first = text.lines().next().unwrap_or_default();
        let expected = format!("//! Chapter {number}:");
        if first.starts_with("//!") && !first.starts_with(&expected) {
            self.report(
                &lib,
                1,
                format!(
                    "the crate's first line must open with `{expected}` (its folder is \
                     chapter {number}); it says `{first}`"
                ),
            );
        }
    }

    fn check_every_chapter_is_shown(&mut self) -> io::Result<()> {
        let chapters = self.root.join("chapters");
        if !chapters.is_dir() {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(&chapters)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for dir in entries {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let manifest = dir.join("Cargo.toml");
            if manifest.is_file() {
                self.check_chapter_header(&dir, name);
            }
            if name == "support"
                || !manifest.is_file()
                || self.included_crates.contains(name)
            {
                continue;
            }
            self.report(
                &manifest,
                1,
                "no page includes anything from this chapter crate: its code is never shown",
            );
        }
        Ok(())
    }
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, or why there are none.
pub fn anchored_text(contents: &str, name: &str) -> Result<String, &'static str> {
    let mut inside = false;
    let mut text = String::new();
    for line in contents.lines() {
        if let Some(end) = ANCHOR_END.captures(line) {
            if inside && &end[1] == name {
                return if text.trim().is_empty() {
                    Err("it is empty")
                } else {
                    Ok(text)
                };
            }
        } else if let Some(start) = ANCHOR_START.captures(line) {
            if &start[1] == name {
                inside = true;
            }
        } else if inside {
            text.push_str(line);
            text.push('\n');
        }
    }
    if inside {
        Err("it has no ANCHOR_END")
    } else {
        Err("no such anchor (mdBook would show an empty block)")
    }
}
