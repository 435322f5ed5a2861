//! `cargo run -q -p browser-check [BOOK_DIR]` (default `book/book`, built by
//! `ci/book build`): loads every page of the book in headless Chromium and
//! fails if one shows a raw `{{#`, an empty code block, a console message, a
//! missing file or an image that never loaded, or if the search does not find
//! chapter 1, if a listing's caption does not sit on its listing, or if a
//! diagram's text overflows its box, leaves the picture, or runs into other
//! text, a box or a line (each SVG is opened on its own and measures itself:
//! `probes/svg.js`). Screenshots of every page in the light and dark themes
//! (the top of the page, and the whole page, in tiles of 16,000 pixels for a
//! longer one) go to `target/browser-check/`.

use browser_check::chrome::{Chrome, Theme};
use browser_check::server::{Probe, SELF_TEST_PATH, StaticServer};
use browser_check::{
    console_messages, images, probed_height, problems_in_dom, search_hits,
    svg_problems, tiles,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A word that appears in chapter 1 and not in the introduction, and the page
/// the search must find it on.
const SEARCH: (&str, &str) = ("TwoRequests", "ch01-state-machine.html");
/// Window sizes: the top of a page, and the whole of it, in tiles as tall as
/// a window may be (Chromium's screenshots stop at 16,384 pixels; headless
/// Chromium does not scroll before the picture is taken, so a tile below the
/// first is the page shifted up by the height probe's `offset`).
const TOP: (u32, u32) = (1280, 900);
const FULL_WIDTH: u32 = 1400;
const TILE: u32 = 16000;

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

/// The rendered pages: one per Markdown file of the book's source.
fn pages(book_src: &Path) -> std::io::Result<Vec<String>> {
    let mut pages: Vec<String> = std::fs::read_dir(book_src)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".md") && n != "SUMMARY.md")
        .map(|n| n.replace(".md", ".html"))
        .collect();
    pages.sort();
    Ok(pages)
}

/// The book's SVG pictures, as paths from the book's root.
fn diagrams(images: &Path) -> std::io::Result<Vec<String>> {
    let mut found: Vec<String> = std::fs::read_dir(images)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".svg"))
        .map(|n| format!("images/{n}"))
        .collect();
    found.sort();
    Ok(found)
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
    let pages = pages(&book.join("../src"))?;
    let server = StaticServer::start(book)?;
    let mut chrome = Chrome::find(&out.join("scratch"))?;
    let mut problems = Vec::new();
    let mut report =
        |page: &str, problem: String| problems.push(format!("{page}: {problem}"));

    let mut heights = Vec::new();
    for page in &pages {
        let loaded = chrome.dump_dom(&server.probe_url(page, Probe::Height))?;
        match probed_height(&loaded.dom) {
            Some(height) => heights.push((page.clone(), height)),
            None => report(page, "the height probe did not run on the page".into()),
        }
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
        for image in images(&loaded.dom) {
            if !server.served(&image) {
                report(page, format!("the image {image} was never loaded"));
            }
        }
    }

    // The probe must find each mistake in the self-test picture first.
    let selftest =
        chrome.dump_dom(&server.probe_url(SELF_TEST_PATH, Probe::Svg))?;
    let _ = server.take_missing(); // its favicon.ico
    let found = svg_problems(&selftest.dom).unwrap_or_default();
    for expected in [
        "text \"far too long for its box\" overflows its rect",
        "texts \"first label\" and \"second label\" overlap",
        "a line runs through text \"crossed out\"",
        "text \"into the box\" runs into a rect it is not in",
        "text \"off the edge of the picture\" leaves the picture",
    ] {
        if !found.iter().any(|f| f.starts_with(expected)) {
            report(
                SELF_TEST_PATH,
                format!(
                    "the SVG probe did not report {expected:?} (it found {found:?})"
                ),
            );
        }
    }
    if found.len() != 5 {
        report(
            SELF_TEST_PATH,
            format!(
                "the SVG probe found {} problems, not 5: {found:?}",
                found.len()
            ),
        );
    }
    for picture in diagrams(&book.join("images"))? {
        let loaded = chrome.dump_dom(&server.probe_url(&picture, Probe::Svg))?;
        match svg_problems(&loaded.dom) {
            Some(found) => {
                for problem in found {
                    report(&picture, problem);
                }
            }
            None => report(
                &picture,
                "the SVG probe did not run (is it an SVG document?)".into(),
            ),
        }
        for message in console_messages(&loaded.log) {
            report(&picture, format!("console message: {message}"));
        }
        // A document that is not a page asks for /favicon.ico itself (the
        // book's pages name theirs); anything else it asks for is missing.
        for missing in server.take_missing() {
            if missing != "favicon.ico" {
                report(&picture, format!("requested a missing file: {missing}"));
            }
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

    // The screenshots are independent: take them two at a time (one Chromium
    // per core), each worker with a scratch folder of its own.
    let mut shots = Vec::new();
    for (page, height) in &heights {
        let stem = page.trim_end_matches(".html");
        for (theme, theme_name) in [(Theme::Light, "light"), (Theme::Dark, "dark")]
        {
            let top = out.join(format!("{stem}-{theme_name}.png"));
            shots.push((
                page.clone(),
                server.url(page),
                theme,
                theme_name,
                top,
                TOP,
            ));
            for (i, (offset, tall)) in tiles(*height, TILE).into_iter().enumerate()
            {
                let part = if i == 0 {
                    String::new()
                } else {
                    format!("-{}", i + 1)
                };
                let path = out.join(format!("{stem}-full{part}-{theme_name}.png"));
                let url = match offset {
                    0 => server.url(page),
                    _ => server.probe_url(page, Probe::Offset(offset)),
                };
                let size = (FULL_WIDTH, tall.max(TOP.1));
                shots.push((page.clone(), url, theme, theme_name, path, size));
            }
        }
    }
    let found: Vec<(String, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let mine: Vec<_> = shots.iter().skip(w).step_by(2).collect();
                let scratch = out.join(format!("scratch-{w}"));
                scope.spawn(move || -> std::io::Result<Vec<(String, String)>> {
                    let mut chrome = Chrome::find(&scratch)?;
                    let mut found = Vec::new();
                    for (page, url, theme, theme_name, path, size) in mine {
                        let shot = chrome.screenshot(url, *theme, path, *size)?;
                        if !path.is_file() {
                            let what = format!(
                                "no screenshot was written to {}",
                                path.display()
                            );
                            found.push((page.clone(), what));
                        }
                        for message in console_messages(&shot.log) {
                            let what = format!(
                                "console message ({theme_name}): {message}"
                            );
                            found.push((page.clone(), what));
                        }
                    }
                    Ok(found)
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            let result = worker.join().unwrap_or_else(|_| {
                Err(std::io::Error::other("a screenshot worker panicked"))
            });
            all.extend(result?);
        }
        Ok::<_, std::io::Error>(all)
    })?;
    for (page, problem) in found {
        report(&page, problem);
    }
    for missing in server.take_missing() {
        report(
            "screenshots",
            format!("requested a missing file: {missing}"),
        );
    }
    if problems.is_empty() {
        println!(
            "browser-check: ok ({} pages, {} diagrams measured, search finds {word:?} \
             on {expected}; {} screenshots in {})",
            pages.len(),
            diagrams(&book.join("images"))?.len(),
            shots.len(),
            out.display()
        );
    }
    Ok(problems)
}
