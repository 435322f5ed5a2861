//! Claims in a page's prose that the checker keeps true: every chapter a page
//! names exists, every file path it names in backticks exists, and every test
//! it names ("the test `name`") is a function in that chapter's crate.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// "chapter 9", "chapters 12 to 15", "Chapter 3, 4 and 7".
static CHAPTER_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[Cc]hapters?\s+(\d+(?:\s*(?:,|and|or|to|-|–)\s*\d+)*)")
        .expect("valid regex")
});
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+").expect("valid regex"));
/// A backticked path: has a slash or a file extension we keep in the repository.
static PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^\[])`([\w.-]+(?:/[\w.-]+)*\.(?:rs|coro|toml|txt|tsv|md|svg|diff|sh)|(?:tests|src|ci|chapters|corofy|book|expected|results|bare)/[\w./-]*)`")
        .expect("valid regex")
});
/// "test `name`", "tests `a` and `b`".
static TEST_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\btests?\s+`([a-z0-9_]+)`").expect("valid regex")
});
static FN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bfn\s+([a-z0-9_]+)").expect("valid regex"));

pub(crate) struct Prose {
    root: PathBuf,
    /// Chapter number to its folder.
    chapters: BTreeMap<u32, PathBuf>,
    /// Chapter number to the names of the functions in its crate.
    functions: BTreeMap<u32, BTreeSet<String>>,
}

impl Prose {
    pub(crate) fn new(root: &Path) -> Prose {
        let mut chapters = BTreeMap::new();
        let mut functions = BTreeMap::new();
        let folders = std::fs::read_dir(root.join("chapters"))
            .into_iter()
            .flatten();
        for entry in folders.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(number) =
                name.split_once('-').and_then(|(n, _)| n.parse().ok())
            else {
                continue;
            };
            let mut names = BTreeSet::new();
            collect_functions(&path, &mut names);
            functions.insert(number, names);
            chapters.insert(number, path);
        }
        Prose {
            root: root.to_path_buf(),
            chapters,
            functions,
        }
    }

    /// The chapter a page is about (`ch09-....md` is chapter 9).
    fn chapter_of(page: &Path) -> Option<u32> {
        let name = page.file_name()?.to_str()?;
        name.strip_prefix("ch")?.get(..2)?.parse().ok()
    }

    /// What is wrong with one line of prose (not code) of `page`.
    pub(crate) fn check_line(&self, page: &Path, line: &str) -> Vec<String> {
        let mut problems = Vec::new();
        for reference in CHAPTER_REF.captures_iter(line) {
            for number in NUMBER.find_iter(&reference[1]) {
                let n: u32 = number.as_str().parse().unwrap_or(0);
                if !self.chapters.contains_key(&n) {
                    problems.push(format!(
                        "names chapter {n}, which does not exist (chapters/ has {})",
                        self.range()
                    ));
                }
            }
        }
        let chapter = Self::chapter_of(page);
        for path in PATH.captures_iter(line) {
            let named = &path[2];
            if !self.path_exists(chapter, named) {
                let place = match chapter.and_then(|c| self.chapters.get(&c)) {
                    Some(dir) => format!(
                        "{} or the repository",
                        dir.strip_prefix(&self.root).unwrap_or(dir).display()
                    ),
                    None => "the repository".to_string(),
                };
                problems.push(format!(
                    "names `{named}`, which is not a file or folder in {place}"
                ));
            }
        }
        if let Some(functions) = chapter.and_then(|c| self.functions.get(&c)) {
            for test in TEST_REF.captures_iter(line) {
                if !functions.contains(&test[1]) {
                    problems.push(format!(
                        "names the test `{}`, which is no function in this chapter's crate",
                        &test[1]
                    ));
                }
            }
        }
        problems
    }

    /// Whether `named` is a path in the page's chapter (from the crate, its
    /// `src/`, or, for a bare file name, anywhere in it) or in the repository.
    fn path_exists(&self, chapter: Option<u32>, named: &str) -> bool {
        let named = named.trim_end_matches('/');
        let in_chapter =
            chapter
                .and_then(|c| self.chapters.get(&c))
                .is_some_and(|dir| {
                    dir.join(named).exists()
                        || dir.join("src").join(named).exists()
                        || (!named.contains('/') && contains_file(dir, named))
                });
        in_chapter
            || self.root.join(named).exists()
            || self.root.join("book/src").join(named).exists()
    }

    fn range(&self) -> String {
        match (self.chapters.keys().next(), self.chapters.keys().last()) {
            (Some(first), Some(last)) => format!("{first} to {last}"),
            _ => "none".to_string(),
        }
    }
}

fn collect_functions(dir: &Path, names: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "target" {
                collect_functions(&path, names);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            names.extend(FN.captures_iter(&text).map(|c| c[1].to_string()));
        }
    }
}

/// Whether a file called `name` is anywhere under `dir` (build output aside).
fn contains_file(dir: &Path, name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            entry.file_name() != "target" && contains_file(&path, name)
        } else {
            entry.file_name() == name
        }
    })
}
