//! The checker against small fixture books: the clean one passes, and each kind
//! of mistake, made once in a copy of it, is reported with the right file, line
//! and message.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const CLEAN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/clean");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A fresh copy of the clean fixture with `edits` applied: `(path, Some(text))`
/// writes a file, `(path, None)` deletes one.
fn fixture(edits: &[(&str, Option<&str>)]) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "book-check-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(Path::new(CLEAN), &dir);
    for (path, text) in edits {
        let path = dir.join(path);
        match text {
            Some(text) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            None => std::fs::remove_file(path).unwrap(),
        }
    }
    dir
}

fn problems(edits: &[(&str, Option<&str>)]) -> Vec<String> {
    let root = fixture(edits);
    let (diagnostics, _) = book_check::check(&root).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    diagnostics.iter().map(ToString::to_string).collect()
}

/// The clean page with `from` replaced by `to`.
fn page_with(from: &str, to: &str) -> String {
    let page =
        std::fs::read_to_string(Path::new(CLEAN).join("book/src/demo.md")).unwrap();
    assert!(page.contains(from), "the fixture page has no {from:?}");
    page.replacen(from, to, 1)
}

const PAGE: &str = "book/src/demo.md";
const LIB: &str = "chapters/01-demo/src/lib.rs";

#[test]
fn the_clean_fixture_passes() {
    let root = fixture(&[]);
    let (diagnostics, stats) = book_check::check(&root).unwrap();
    assert_eq!(diagnostics, []);
    assert_eq!((stats.pages, stats.includes, stats.transcripts), (2, 3, 1));
}

#[test]
fn inline_rust_is_refused() {
    let page = page_with(
        "{{#include ../../chapters/01-demo/src/lib.rs:greet}}\n",
        "{{#include ../../chapters/01-demo/src/lib.rs:greet}}\nfn typed_in() {}\n",
    );
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:7: Rust typed into the page: a ```rust block may only hold \
          {{#include file:anchor}} lines from a chapter crate"
        ]
    );
}

#[test]
fn a_listing_straight_after_a_heading_is_refused() {
    let page = page_with("The function:\n", "## The function\n");
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:5: a listing right after a heading: say in a sentence what \
             it shows and why, first"
        ]
    );
}

#[test]
fn an_empty_rust_block_is_refused() {
    let page =
        page_with("{{#include ../../chapters/01-demo/src/lib.rs:greet}}\n", "");
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        ["book/src/demo.md:5: empty ```rust block: it renders as an empty box"]
    );
}

#[test]
fn a_missing_file_is_refused() {
    let page = page_with("src/lib.rs:greet", "src/gone.rs:greet");
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:6: included file chapters/01-demo/src/gone.rs does not exist"
        ]
    );
}

#[test]
fn an_include_outside_chapters_is_refused() {
    let page = page_with(
        "../../chapters/01-demo/src/lib.rs:greet",
        "../notes/snippet.rs",
    );
    assert_eq!(
        problems(&[
            (PAGE, Some(&page)),
            ("book/notes/snippet.rs", Some("fn x() {}\n"))
        ]),
        [
            "book/src/demo.md:6: includes book/notes/snippet.rs, which is outside chapters/ \
          and corofy/: pages may only show code that a crate compiles"
        ]
    );
}

#[test]
fn a_missing_anchor_is_refused() {
    let page = page_with("lib.rs:greet", "lib.rs:greeting");
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:6: anchor `greeting` in chapters/01-demo/src/lib.rs: no such \
          anchor (mdBook would show an empty block)"
        ]
    );
}

#[test]
fn an_unbalanced_anchor_is_refused() {
    let lib = "// ANCHOR: greet\npub fn greet() {}\n";
    assert_eq!(
        problems(&[(LIB, Some(lib))]),
        [
            "book/src/demo.md:6: anchor `greet` in chapters/01-demo/src/lib.rs: it has no \
             ANCHOR_END",
            "chapters/01-demo/src/lib.rs:1: ANCHOR: greet has no ANCHOR_END: greet \
             (unbalanced anchor)",
        ]
    );
}

#[test]
fn an_anchor_end_without_start_is_refused() {
    let lib = "// ANCHOR: greet\npub fn greet() {}\n// ANCHOR_END: greet\n// ANCHOR_END: other\n";
    assert_eq!(
        problems(&[(LIB, Some(lib))]),
        [
            "chapters/01-demo/src/lib.rs:4: ANCHOR_END: other has no ANCHOR: other before it"
        ]
    );
}

#[test]
fn an_empty_anchor_is_refused() {
    let lib = "// ANCHOR: greet\n\n// ANCHOR_END: greet\npub fn greet() {}\n";
    assert_eq!(
        problems(&[(LIB, Some(lib))]),
        [
            "book/src/demo.md:6: anchor `greet` in chapters/01-demo/src/lib.rs: it is empty"
        ]
    );
}

#[test]
fn a_line_range_include_is_refused() {
    for range in ["1:3", "2", "2:", ":3"] {
        let page = page_with("lib.rs:greet", &format!("lib.rs:{range}"));
        assert_eq!(
            problems(&[(PAGE, Some(&page))]),
            [format!(
                "book/src/demo.md:6: line-range include {{{{#include \
                 ../../chapters/01-demo/src/lib.rs:{range}}}}}: line numbers break silently \
                 when the code moves; mark the lines with ANCHOR/ANCHOR_END and include by \
                 anchor name"
            )]
        );
    }
}

#[test]
fn typed_in_output_is_refused() {
    let page = page_with(
        "{{#include ../../chapters/01-demo/expected/main.txt}}",
        "hello",
    );
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:24: output typed into the page: include a transcript from \
          chapters/<chapter>/expected/ that the chapter's tests/transcripts.rs checks (use \
          ```sh for commands)"
        ]
    );
}

#[test]
fn output_from_a_file_that_is_not_a_transcript_is_refused() {
    let page = page_with("expected/main.txt", "src/lib.rs");
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:24: output block includes chapters/01-demo/src/lib.rs, which is \
          not a transcript (transcripts live in chapters/<chapter>/expected/*.txt and are \
          compared with the program's output by that chapter's tests/transcripts.rs)"
        ]
    );
}

#[test]
fn a_transcript_no_test_checks_is_refused() {
    assert_eq!(
        problems(&[("chapters/01-demo/tests/transcripts.rs", None)]),
        [
            "book/src/demo.md:24: output block includes chapters/01-demo/expected/main.txt, \
          but chapters/01-demo/tests/transcripts.rs does not check it (transcripts live in \
          chapters/<chapter>/expected/*.txt and are compared with the program's output by \
          that chapter's tests/transcripts.rs)"
        ]
    );
}

#[test]
fn a_chapter_no_page_shows_is_refused() {
    assert_eq!(
        problems(&[(
            "chapters/02-unseen/Cargo.toml",
            Some("[package]\nname = \"x\"\n")
        )]),
        [
            "chapters/02-unseen/Cargo.toml:1: no page includes anything from this chapter \
          crate: its code is never shown"
        ]
    );
}

#[test]
fn a_chapter_header_naming_another_chapter_is_refused() {
    let lib = "//! Chapter 9: copied forward and never renamed.\n\n\
               // ANCHOR: greet\npub fn greet() {}\n// ANCHOR_END: greet\n";
    assert_eq!(
        problems(&[(LIB, Some(lib))]),
        [
            "chapters/01-demo/src/lib.rs:1: the crate's first line must open with \
             `//! Chapter 1:` (its folder is chapter 1); it says `//! Chapter 9: copied \
             forward and never renamed.`"
        ]
    );
}

#[test]
fn a_missing_image_is_refused() {
    assert_eq!(
        problems(&[("book/src/images/states.svg", None)]),
        ["book/src/demo.md:27: image book/src/images/states.svg does not exist"]
    );
}

#[test]
fn unknown_and_malformed_directives_are_refused() {
    let page = page_with(
        "Directives can be shown escaped",
        "{{#inlcude x.rs}} and {{#playground y.rs}} and {{#include\nDirectives can be shown escaped",
    );
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:29: malformed {{#...}} directive: mdBook would leave it as raw text",
            "book/src/demo.md:29: unknown directive {{#inlcude}}: mdBook would leave it as raw text",
            "book/src/demo.md:29: {{#playground}} makes a runnable block, but our code needs \
             crates the playground lacks: use {{#include file:anchor}}",
        ]
    );
}

#[test]
fn the_binary_exits_1_and_prints_path_line_message() {
    let root = fixture(&[(LIB, Some("pub fn greet() {}\n"))]);
    let output = Command::new(env!("CARGO_BIN_EXE_book-check"))
        .arg(&root)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "book/src/demo.md:6: anchor `greet` in chapters/01-demo/src/lib.rs"
        ),
        "{stderr}"
    );
    let clean = Command::new(env!("CARGO_BIN_EXE_book-check"))
        .arg(CLEAN)
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    assert!(
        String::from_utf8(clean.stdout)
            .unwrap()
            .starts_with("book-check: ok")
    );
}

#[test]
fn an_indented_code_block_is_refused() {
    let page = page_with(
        "Directives can be shown escaped",
        "Code by indentation:\n\n    fn typed_in() {}\n\nDirectives can be shown escaped",
    );
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:31: indented code block: it renders as code that no test \
          checks; use a fenced block with an {{#include}} (or ```sh for commands)"
        ]
    );
}

#[test]
fn rust_typed_into_a_list_item_is_refused() {
    let page = page_with(
        "Directives can be shown escaped",
        "- a list item:\n\n  ```rust\n  fn typed_in() {}\n  ```\n\nDirectives can be shown escaped",
    );
    assert_eq!(
        problems(&[(PAGE, Some(&page))]),
        [
            "book/src/demo.md:32: Rust typed into the page: a ```rust block may only hold \
          {{#include file:anchor}} lines from a chapter crate"
        ]
    );
}

#[test]
fn an_unclosed_block_is_refused() {
    let page = page_with(
        "Directives can be shown escaped: \\{{#include something}}.",
        "The end.\n\n```rust\n",
    );
    let found = problems(&[(PAGE, Some(&page))]);
    assert_eq!(
        found,
        [
            "book/src/demo.md:31: code block is never closed",
            "book/src/demo.md:31: empty ```rust block: it renders as an empty box",
        ]
    );
}

#[test]
fn prose_that_names_a_missing_chapter_file_or_test_is_refused() {
    let page = "# A chapter page\n\
        \n\
        As chapter 1 showed, and chapters 1 and 7 will.\n\
        \n\
        See `src/lib.rs`, `lib.rs`, `expected/main.txt` and `tests/nowhere.rs`.\n\
        \n\
        The test `greet` exists; the test `no_such_test` does not.\n";
    assert_eq!(
        problems(&[("book/src/ch01-demo.md", Some(page))]),
        [
            "book/src/ch01-demo.md:3: names chapter 7, which does not exist (chapters/ has 1 to 1)",
            "book/src/ch01-demo.md:5: names `tests/nowhere.rs`, which is not a file or folder in \
             chapters/01-demo or the repository",
            "book/src/ch01-demo.md:7: names the test `no_such_test`, which is no function in this \
             chapter's crate",
        ]
    );
}

#[test]
fn a_what_changed_section_must_fold_the_diff_and_name_every_library_file() {
    const CHANGES: &str = "chapters/01-demo/CHANGES.diff";
    let diff = "# ANCHOR: stat\n\
                From chapters/00-base to chapters/01-demo, generated by ci/chapter-diff.\n\
                The library's source (src/ without its programs and the exercises):\n  \
                changed  src/lib.rs    +1 -1\n  \
                new      src/extra.rs  4 lines\n  \
                removed  src/gone.rs   2 lines\n\
                Around it (named here, not shown):\n  \
                changed  tests/transcripts.rs\n\
                # ANCHOR_END: stat\n\
                # ANCHOR: diff\n\
                --- 00-base/src/lib.rs\n+++ 01-demo/src/lib.rs\n@@ -1 +1 @@\n-a\n+b\n\
                # ANCHOR_END: diff\n";
    let section = |summary: &str, fold: bool| {
        let (open, close) = if fold {
            (
                "<details>\n<summary>The diff</summary>\n\n",
                "\n</details>\n",
            )
        } else {
            ("", "")
        };
        format!(
            "## What changed\n\n{summary}\n\n```diff\n\
             {{{{#include ../../chapters/01-demo/CHANGES.diff:stat}}}}\n```\n\n\
             {open}```diff\n{{{{#include ../../chapters/01-demo/CHANGES.diff:diff}}}}\n```\n{close}"
        )
    };
    // A chapter page of its own, so that prose paths resolve in chapters/01-demo.
    const CHAPTER_PAGE: &str = "book/src/ch01-demo.md";
    const EXTRA: (&str, Option<&str>) =
        ("chapters/01-demo/src/extra.rs", Some("//! Extra.\n"));
    let with = |text: String| format!("# Demo\n\n{text}");
    let good = section("`src/lib.rs` says b; `src/extra.rs` is new.", true);
    assert_eq!(
        problems(&[
            (CHAPTER_PAGE, Some(&with(good))),
            (CHANGES, Some(diff)),
            EXTRA
        ]),
        Vec::<String>::new()
    );

    let unnamed = section("`src/lib.rs` says b.", true);
    let found = problems(&[
        (CHAPTER_PAGE, Some(&with(unnamed))),
        (CHANGES, Some(diff)),
        EXTRA,
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("does not name `src/extra.rs`"),
        "{found:?}"
    );

    let unfolded = section("`src/lib.rs` says b; `src/extra.rs` is new.", false);
    let found = problems(&[
        (CHAPTER_PAGE, Some(&with(unfolded))),
        (CHANGES, Some(diff)),
        EXTRA,
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("is not folded"), "{found:?}");

    let whole = "## What changed\n\n```diff\n{{#include ../../chapters/01-demo/CHANGES.diff}}\n```\n";
    let found = problems(&[
        (CHAPTER_PAGE, Some(&with(whole.to_string()))),
        (CHANGES, Some(diff)),
        EXTRA,
    ]);
    assert!(
        found.iter().any(|p| p.contains("is included whole")),
        "{found:?}"
    );
}
