//! Captions for the book's listings, made from the include that fills them.
//!
//! A fenced block whose lines are all `{{#include path}}` (or
//! `{{#rustdoc_include path}}`) directives gets, right above it, a caption
//! naming the file(s) it shows, relative to the repository, linked to the file
//! in the repository when the book has a `git-repository-url`. The captions are
//! computed from the directives, so none is ever typed by hand and none can
//! name the wrong file. This runs before mdBook's `links` preprocessor, while
//! the directives are still in the text.

use std::path::{Component, Path, PathBuf};

/// The class of the caption's `<div>` (styled by `book/css/listings.css`).
pub const CLASS: &str = "listing-file";

/// Where the included paths are resolved from, and where captions link to.
pub struct Context<'a> {
    /// The page's folder, relative to the repository (`book/src` for a page
    /// at the top of the book's source).
    pub page_dir: PathBuf,
    /// The repository's web address, if the book names one.
    pub repository: Option<&'a str>,
}

/// `path` with `.` and `..` resolved without touching the file system.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The file a directive line includes, relative to the repository, or `None`
/// if the line is not an include directive.
fn included_file(line: &str, context: &Context<'_>) -> Option<String> {
    let inner = line.trim().strip_prefix("{{#")?.strip_suffix("}}")?;
    let argument = inner
        .strip_prefix("include ")
        .or_else(|| inner.strip_prefix("rustdoc_include "))?
        .trim();
    let path = argument.split(':').next()?;
    let file = normalise(&context.page_dir.join(path));
    Some(file.to_string_lossy().replace('\\', "/"))
}

/// The leading part of a line that places it in a list item or a quote:
/// spaces and `>` markers.
fn prefix(line: &str) -> &str {
    let end = line
        .find(|c: char| c != ' ' && c != '>' && c != '\t')
        .unwrap_or(line.len());
    &line[..end]
}

/// The fence that opens a code block on this line (after its prefix), if any.
fn fence(rest: &str) -> Option<&str> {
    ["````", "```", "~~~"]
        .into_iter()
        .find(|marker| rest.starts_with(marker))
}

/// The caption's HTML for `files`.
fn caption(files: &[String], context: &Context<'_>) -> String {
    let names: Vec<String> = files
        .iter()
        .map(|file| match context.repository {
            Some(url) => format!(
                "<a href=\"{}/blob/main/{file}\"><code>{file}</code></a>",
                url.trim_end_matches('/')
            ),
            None => format!("<code>{file}</code>"),
        })
        .collect();
    format!("<div class=\"{CLASS}\">{}</div>", names.join(", "))
}

/// The page's Markdown with a caption above every listing that is made of
/// include directives only. Everything else is left exactly as it was.
pub fn add_captions(markdown: &str, context: &Context<'_>) -> String {
    let lines: Vec<&str> = markdown.split_inclusive('\n').collect();
    let mut out = String::with_capacity(markdown.len() + 1024);
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let lead = prefix(line);
        let Some(marker) = fence(&line[lead.len()..]) else {
            out.push_str(line);
            i += 1;
            continue;
        };
        // The block runs to the next line (with the same prefix) that
        // starts with the same fence.
        let close = (i + 1..lines.len()).find(|&j| {
            let l = lines[j];
            l.starts_with(lead.trim_end())
                && l[prefix(l).len()..].trim_end() == marker
        });
        let Some(close) = close else {
            out.push_str(line);
            i += 1;
            continue;
        };
        let body = &lines[i + 1..close];
        let files: Option<Vec<String>> = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| included_file(l, context))
            .collect();
        if let Some(mut files) = files.filter(|f| !f.is_empty()) {
            files.dedup();
            let newline = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
            out.push_str(lead);
            out.push_str(&caption(&files, context));
            out.push_str(newline);
            out.push_str(lead.trim_end());
            out.push_str(newline);
        }
        for l in &lines[i..=close] {
            out.push_str(l);
        }
        i = close + 1;
    }
    out
}

/// Captions every chapter of the book mdBook handed over (its JSON, as
/// `[context, book]` on the preprocessor's standard input): `repo_root` is
/// the repository's folder and `src` the book's source folder in it.
pub fn caption_book(
    book: &mut serde_json::Value,
    repo_root: &Path,
    src: &Path,
    repository: Option<&str>,
) {
    match book {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(chapter)) = map.get_mut("Chapter")
            {
                let page = chapter
                    .get("source_path")
                    .or_else(|| chapter.get("path"))
                    .and_then(|p| p.as_str())
                    .map(PathBuf::from);
                if let (Some(page), Some(serde_json::Value::String(content))) =
                    (page, chapter.get("content").cloned())
                {
                    let dir = src.join(page.parent().unwrap_or(Path::new("")));
                    let page_dir =
                        dir.strip_prefix(repo_root).unwrap_or(&dir).to_path_buf();
                    let context = Context {
                        page_dir,
                        repository,
                    };
                    chapter.insert(
                        "content".to_string(),
                        serde_json::Value::String(add_captions(&content, &context)),
                    );
                }
            }
            for value in map.values_mut() {
                caption_book(value, repo_root, src, repository);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                caption_book(item, repo_root, src, repository);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(repository: Option<&'static str>) -> Context<'static> {
        Context {
            page_dir: PathBuf::from("book/src"),
            repository,
        }
    }

    #[test]
    fn a_listing_of_includes_is_captioned_with_its_file() {
        let page = "Text.\n\n```rust\n{{#include ../../chapters/09-x/src/op.rs:read}}\n```\n";
        let out = add_captions(page, &context(Some("https://example.org/book/")));
        assert_eq!(
            out,
            "Text.\n\n<div class=\"listing-file\"><a href=\"https://example.org/book/blob/main/\
             chapters/09-x/src/op.rs\"><code>chapters/09-x/src/op.rs</code></a></div>\n\n\
             ```rust\n{{#include ../../chapters/09-x/src/op.rs:read}}\n```\n"
        );
    }

    #[test]
    fn several_includes_name_each_file_once_and_indentation_is_kept() {
        let page = "- item\n\n  ```rust,ignore\n  {{#rustdoc_include ../../a/b.rs}}\n  \
                    {{#include ../../a/b.rs:x}}\n  {{#include ../../a/c.rs:y}}\n  ```\n";
        let out = add_captions(page, &context(None));
        assert_eq!(
            out,
            "- item\n\n  <div class=\"listing-file\"><code>a/b.rs</code>, \
             <code>a/c.rs</code></div>\n\n  ```rust,ignore\n  \
             {{#rustdoc_include ../../a/b.rs}}\n  {{#include ../../a/b.rs:x}}\n  \
             {{#include ../../a/c.rs:y}}\n  ```\n"
        );
    }

    #[test]
    fn blocks_that_are_not_only_includes_are_left_alone() {
        for page in [
            "```sh\ncargo run\n```\n",
            "```rust\n{{#include ../../a.rs:x}}\nfn typed() {}\n```\n",
            "```text\n```\n",
            "```rust\n{{#include ../../a.rs:x}}\n",
            "Escaped: \\{{#include a.rs}}\n",
        ] {
            assert_eq!(add_captions(page, &context(None)), page, "{page:?}");
        }
    }

    #[test]
    fn every_chapter_in_the_books_json_is_captioned() {
        let mut book = serde_json::json!({
            "items": [
                {"Chapter": {
                    "name": "One", "source_path": "ch01.md", "path": "ch01.md",
                    "content": "```rust\n{{#include ../../chapters/01/src/lib.rs:a}}\n```\n",
                    "sub_items": [{"Chapter": {
                        "name": "Two", "source_path": "part/ch02.md",
                        "content": "```text\n{{#include ../../../chapters/02/expected/main.txt}}\n```\n",
                        "sub_items": []
                    }}]
                }},
                "Separator"
            ]
        });
        caption_book(
            &mut book,
            Path::new("/repo"),
            Path::new("/repo/book/src"),
            None,
        );
        let first = book["items"][0]["Chapter"]["content"]
            .as_str()
            .unwrap_or_default();
        assert!(first.starts_with("<div class=\"listing-file\"><code>chapters/01/src/lib.rs</code></div>\n\n```rust"), "{first}");
        let second =
            book["items"][0]["Chapter"]["sub_items"][0]["Chapter"]["content"]
                .as_str()
                .unwrap_or_default();
        assert!(
            second.contains("<code>chapters/02/expected/main.txt</code>"),
            "{second}"
        );
    }
}
