//! The mdBook preprocessor command (see the library): `listing-captions
//! supports <renderer>` answers yes to every renderer; with no arguments it
//! reads `[context, book]` as JSON on standard input and writes the book,
//! captioned, to standard output.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The repository's folder: the nearest folder above the book holding a
/// workspace `Cargo.toml`, or else the book's parent.
fn repository_root(book_root: &Path) -> PathBuf {
    book_root
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.contains("[workspace]"))
        })
        .or_else(|| book_root.parent())
        .unwrap_or(book_root)
        .to_path_buf()
}

fn run() -> Result<(), String> {
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the book from standard input: {e}"))?;
    let parsed: serde_json::Value = serde_json::from_str(&input).map_err(|e| {
        format!("standard input is not mdBook's [context, book] JSON: {e}")
    })?;
    let serde_json::Value::Array(mut pair) = parsed else {
        return Err("expected a JSON array [context, book] from mdBook".to_string());
    };
    if pair.len() != 2 {
        return Err(format!(
            "expected [context, book], got {} items",
            pair.len()
        ));
    }
    let mut book = pair.pop().unwrap_or_default();
    let context = pair.pop().unwrap_or_default();
    let book_root = PathBuf::from(context["root"].as_str().unwrap_or("."));
    let src = context["config"]["book"]["src"].as_str().unwrap_or("src");
    let book_root = book_root.canonicalize().unwrap_or(book_root);
    let repo_root = repository_root(&book_root);
    let repository =
        context["config"]["output"]["html"]["git-repository-url"].as_str();
    listing_captions::caption_book(
        &mut book,
        &repo_root,
        &book_root.join(src),
        repository,
    );
    let out = serde_json::to_string(&book)
        .map_err(|e| format!("cannot write the book: {e}"))?;
    io::stdout()
        .write_all(out.as_bytes())
        .map_err(|e| format!("cannot write the book to standard output: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        // Captions are plain HTML and Markdown: fine for every renderer.
        Some("supports") => ExitCode::SUCCESS,
        None => match run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("listing-captions: {message}");
                ExitCode::FAILURE
            }
        },
        Some(other) => {
            eprintln!(
                "listing-captions: unknown argument {other:?}; mdBook runs this as a \
                 preprocessor (see book/book.toml)"
            );
            ExitCode::from(2)
        }
    }
}
