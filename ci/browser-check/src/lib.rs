//! Checks the rendered book the way a reader sees it: in a real browser.
//!
//! [`server`] serves the built book on 127.0.0.1 (mdBook's search index does not
//! load from `file://`) and records every request it could not answer;
//! [`chrome`] runs headless Chromium on a page and returns the DOM after the
//! page's scripts ran, plus the console messages it printed; the functions here
//! judge that DOM.

pub mod chrome;
pub mod server;

use regex::Regex;
use std::sync::LazyLock;

static PRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<pre[^>]*>(.*?)</pre>").expect("valid regex")
});
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<code[^>]*>(.*?)</code>").expect("valid regex")
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<[^>]*>").expect("valid regex"));
static SEARCH_RESULTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<ul id="mdbook-searchresults"[^>]*>(.*?)</ul>"#)
        .expect("valid regex")
});
static RESULT_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<li[^>]*>\s*<a href="([^"?#]+)"#).expect("valid regex")
});

/// Text content of an HTML fragment (tags removed, not entity-decoded).
fn text_of(html: &str) -> String {
    TAG.replace_all(html, "").into_owned()
}

/// Everything wrong with a page's DOM, one sentence each.
pub fn problems_in_dom(dom: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(at) = dom.find("{{#") {
        let context: String = dom[at..].chars().take(60).collect();
        problems.push(format!(
            "raw mdBook directive in the page (a failed include?): {context:?}"
        ));
    }
    for caption in CAPTION.find_iter(dom) {
        let after = dom[caption.end()..].trim_start();
        if !after.starts_with("<pre") {
            let name = text_of(caption.as_str());
            problems.push(format!(
                "the listing caption {name:?} is not followed by its listing (a \
                 caption must sit right above a code block)"
            ));
        }
    }
    let mut blocks = 0;
    for pre in PRE.captures_iter(dom) {
        for code in CODE.captures_iter(&pre[1]) {
            blocks += 1;
            if text_of(&code[1]).trim().is_empty() {
                problems.push(format!(
                    "code block {blocks} is empty (a missing anchor renders like this)"
                ));
            }
        }
    }
    problems
}

static CAPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<div class="listing-file">.*?</div>"#).expect("valid regex")
});
static HEIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"data-probe-height="(\d+)""#).expect("valid regex")
});
static SVG_REPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<desc id="browser-check">(.*?)</desc>"#).expect("valid regex")
});

/// The page's full height in pixels, as the height probe noted it.
pub fn probed_height(dom: &str) -> Option<u32> {
    HEIGHT.captures(dom)?[1].parse().ok()
}

/// What the SVG probe found in a picture: `None` if it did not run (no
/// report in the DOM), else one problem per entry (empty: none).
pub fn svg_problems(dom: &str) -> Option<Vec<String>> {
    let report = SVG_REPORT.captures_iter(dom).last()?;
    let mut lines = report[1].lines();
    lines.next()?.starts_with("checked ").then_some(())?;
    Some(
        lines
            .map(|l| l.replace("&quot;", "\"").replace("&amp;", "&"))
            .filter(|l| !l.trim().is_empty())
            .collect(),
    )
}

/// Where to cut a page `height` pixels tall into screenshots at most `tile`
/// pixels tall: each one's offset and height.
pub fn tiles(height: u32, tile: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        out.push((offset, tile.min(height.saturating_sub(offset)).max(1)));
        offset += tile;
        if offset >= height {
            return out;
        }
    }
}

/// The pages (file names) the search results in `dom` link to.
pub fn search_hits(dom: &str) -> Vec<String> {
    SEARCH_RESULTS
        .captures(dom)
        .map(|list| {
            RESULT_LINK
                .captures_iter(&list[1])
                .map(|hit| hit[1].to_string())
                .collect()
        })
        .unwrap_or_default()
}

static IMG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<img\s[^>]*src="([^"]+)""#).expect("valid regex")
});

/// The images a page's DOM shows, as paths relative to the book's root.
pub fn images(dom: &str) -> Vec<String> {
    IMG.captures_iter(dom)
        .map(|c| c[1].trim_start_matches("./").to_string())
        .filter(|src| !src.contains("://"))
        .collect()
}

/// Console messages in Chromium's log (with `--enable-logging=stderr`).
pub fn console_messages(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split_once(":CONSOLE").map(|(_, msg)| msg))
        .map(|msg| msg.split_once("] ").map_or(msg, |(_, m)| m).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_raw_directives_and_empty_code_blocks() {
        let dom = r#"<main><pre><code class="language-rust">fn x() {}</code></pre>
            <pre><div class="buttons"></div><code class="language-rust"> 
            </code></pre><p>{{#include a.rs:x}}</p></main>"#;
        let problems = problems_in_dom(dom);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("raw mdBook directive"));
        assert!(problems[1].contains("code block 2 is empty"));
        let clean = r#"<pre><code><span class="k">let</span> x</code></pre>"#;
        assert_eq!(problems_in_dom(clean), Vec::<String>::new());
    }

    #[test]
    fn a_caption_must_sit_on_its_listing() {
        let good = r#"<div class="listing-file"><code>a.rs</code></div>
            <pre><code>fn x() {}</code></pre>"#;
        assert!(problems_in_dom(good).is_empty());
        let bad = r#"<div class="listing-file"><code>a.rs</code></div><p>text</p>"#;
        assert_eq!(problems_in_dom(bad).len(), 1);
    }

    #[test]
    fn reads_the_probes() {
        assert_eq!(
            probed_height(r#"<body data-probe-height="21608">"#),
            Some(21608)
        );
        assert_eq!(probed_height("<body>"), None);
        let svg = "<svg><desc id=\"browser-check\">checked 3 texts, 1 strokes\n\
                   text &quot;a&quot; overflows its rect by 2.0 px\n</desc></svg>";
        assert_eq!(
            svg_problems(svg),
            Some(vec!["text \"a\" overflows its rect by 2.0 px".to_string()])
        );
        let clean =
            "<desc id=\"browser-check\">checked 3 texts, 1 strokes\n</desc>";
        assert_eq!(svg_problems(clean), Some(vec![]));
        assert_eq!(svg_problems("<svg></svg>"), None);
    }

    #[test]
    fn a_long_page_is_cut_into_tiles() {
        assert_eq!(tiles(900, 16000), [(0, 900)]);
        assert_eq!(tiles(16000, 16000), [(0, 16000)]);
        assert_eq!(tiles(21608, 16000), [(0, 16000), (16000, 5608)]);
    }

    #[test]
    fn reads_search_hits() {
        let dom = r#"<ul id="mdbook-searchresults"><li><a href="ch01.html?highlight=x#a">A</a></li>
            <li><a href="intro.html#b">B</a></li></ul>"#;
        assert_eq!(search_hits(dom), ["ch01.html", "intro.html"]);
        assert_eq!(search_hits("<ul id=\"other\"></ul>"), Vec::<String>::new());
    }

    #[test]
    fn finds_images() {
        let dom =
            r#"<p><img src="images/a.svg" alt="x"><img alt="y" src="./b.png"></p>"#;
        assert_eq!(images(dom), ["images/a.svg", "b.png"]);
    }

    #[test]
    fn reads_console_messages() {
        let log = "[1:1:1123/004048.5:WARNING:x.cc:1] D-Bus noise\n\
                   [1:1:1123/004048.7:INFO:CONSOLE:1] \"Uncaught ReferenceError\", source: x (1)\n";
        assert_eq!(
            console_messages(log),
            ["\"Uncaught ReferenceError\", source: x (1)"]
        );
    }
}
