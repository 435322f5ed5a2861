//! `cargo run -q -p browser-check [BOOK_DIR]` (default `book/book`, built by
//! `ci/book build`): loads the introduction and chapter 1 in headless Chromium
//! and fails if a page shows a raw `{{#`, an empty code block, a console
//! message or a missing file, or if the search does not find chapter 1.
//! Screenshots of chapter 1 in the light and dark themes go to
//! `target/browser-check/`.

use browser_check::chrome::{Chrome, Theme};
use browser_check::server::StaticServer;
use browser_check::{console_messages, problems_in_dom, search_hits};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Pages every run loads, and for each an image it must show.
const PAGES: &[(&str, Option<&str>)] = &[
    ("intro.html", None),
    ("ch01-state-machine.html", Some("images/ch01-states.svg")),
];
/// A word that appears in chapter 1 and not in the introduction, and the page
/// the search must find it on.
const SEARCH: (&str, &str) = ("TwoRequests", "ch01-state-machine.html");
/// Screenshots: file name, page, theme, window size. Headless Chromium does not
/// scroll to a `#fragment` before the picture is taken, so the whole-page shots
/// use a window tall enough to hold all of chapter 1.
const SCREENSHOTS: &[(&str, &str, Theme, (u32, u32))] = &[
    (
        "ch01-light.png",
        "ch01-state-machine.html",
        Theme::Light,
        (1280, 900),
    ),
    (
        "ch01-dark.png",
        "ch01-state-machine.html",
        Theme::Dark,
        (1280, 900),
    ),
    (
        "ch01-full-light.png",
        "ch01-state-machine.html",
        Theme::Light,
        (1280, 16000),
    ),
    (
        "ch01-full-dark.png",
        "ch01-state-machine.html",
        Theme::Dark,
        (1280, 16000),
    ),
];

fn main() -> ExitCode {
    let book = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("book/book"));
    match run(&book, Path::new("target/browser-check")) {
        Ok(problems) if problems.is_empty() => ExitCode::SUCCESS,
        Ok(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!("browser-check: {} problem(s)", problems.len());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("browser-check: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(book: &Path, out: &Path) -> std::io::Result<Vec<String>> {
    if !book.join("index.html").is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} holds no built book; run `ci/book build` first",
                book.display()
            ),
        ));
    }
    let server = StaticServer::start(book)?;
    let mut chrome = Chrome::find(&out.join("scratch"))?;
    let mut problems = Vec::new();
    let mut report =
        |page: &str, problem: String| problems.push(format!("{page}: {problem}"));

    for &(page, image) in PAGES {
        let loaded = chrome.dump_dom(&server.url(page))?;
        if !loaded.dom.contains("<main") {
            report(
                page,
                "the page did not render (no <main> in the DOM)".into(),
            );
        }
        for problem in problems_in_dom(&loaded.dom) {
            report(page, problem);
        }
        for message in console_messages(&loaded.log) {
            report(page, format!("console message: {message}"));
        }
        for missing in server.take_missing() {
            report(
                page,
                format!("requested a file the book does not have: {missing}"),
            );
        }
        if let Some(image) = image
            && !server.served(image)
        {
            report(page, format!("the diagram {image} was never loaded"));
        }
    }

    let (word, expected) = SEARCH;
    let results =
        chrome.dump_dom(&server.url(&format!("intro.html?search={word}")))?;
    let hits = search_hits(&results.dom);
    if !hits.iter().any(|hit| hit == expected) {
        report(
            "search",
            format!("searching for {word:?} found {hits:?}, not {expected}"),
        );
    }

    for &(file, page, theme, size) in SCREENSHOTS {
        let path = out.join(file);
        let shot = chrome.screenshot(&server.url(page), theme, &path, size)?;
        if !path.is_file() {
            report(
                page,
                format!("no screenshot was written to {}", path.display()),
            );
        }
        for message in console_messages(&shot.log) {
            report(
                page,
                format!("console message ({theme:?} theme): {message}"),
            );
        }
    }
    for missing in server.take_missing() {
        report(
            "screenshots",
            format!("requested a missing file: {missing}"),
        );
    }
    if problems.is_empty() {
        println!(
            "browser-check: ok ({} pages, search finds {word:?} on {expected}; screenshots in {})",
            PAGES.len(),
            out.display()
        );
    }
    Ok(problems)
}
