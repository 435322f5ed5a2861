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
