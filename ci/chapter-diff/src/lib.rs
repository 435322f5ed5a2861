//! "What changed since the previous chapter", generated, never hand-written.
//!
//! Every chapter from the second on has a `CHANGES.diff` in its folder: the
//! files added and removed since the previous chapter (or the one it names
//! as its base, see [`base`]), and a unified diff of
//! the files that changed. The chapter's page includes it. This crate's test
//! recomputes every one and fails when a committed file is stale;
//! `UPDATE_EXPECTED=1 cargo test -p chapter-diff` rewrites them.
//!
//! Changed tests are listed but their lines are not shown. Left out: build output, transcripts (`expected/`), the diff itself, and a
//! `.rs` file generated from a `.coro` file beside it (the `.coro` diff says it).

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// The file name of the generated diff in each chapter folder.
pub const FILE: &str = "CHANGES.diff";

/// The chapter folders under `root/chapters`, in order (`NN-slug`).
pub fn chapters(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("chapters"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.join("Cargo.toml").is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.as_bytes().first().is_some_and(u8::is_ascii_digit)
                })
        })
        .collect();
    found.sort();
    Ok(found)
}

fn files(dir: &Path) -> io::Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
            let first = rel.components().next().map(|c| c.as_os_str().to_owned());
            if first.is_some_and(|f| f == "target" || f == "expected") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if rel != Path::new(FILE)
                && !(rel.extension().is_some_and(|e| e == "rs")
                    && path.with_extension("coro").is_file())
            {
                out.insert(rel);
            }
        }
    }
    Ok(out)
}

/// The text without the book's `ANCHOR`/`ANCHOR_END` marker lines, which are
/// scaffolding for the pages, not code.
fn without_anchors(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The chapter `next` continues: the one its `Cargo.toml` names in
/// `[package.metadata.chapter] based-on = "NN-slug"`, or else `previous`;
/// `None` for `based-on = "none"`, a chapter that starts afresh (it has no
/// `CHANGES.diff`).
pub fn base(previous: &Path, next: &Path) -> io::Result<Option<PathBuf>> {
    let manifest = std::fs::read_to_string(next.join("Cargo.toml"))?;
    let named = manifest.lines().find_map(|l| {
        l.trim()
            .strip_prefix("based-on = \"")
            .and_then(|rest| rest.strip_suffix('"'))
    });
    match (named, next.parent()) {
        (Some("none"), _) => Ok(None),
        (Some(name), Some(chapters)) => {
            let base = chapters.join(name);
            if base.join("Cargo.toml").is_file() {
                Ok(Some(base))
            } else {
                Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{}: based-on names no chapter: {name}",
                        next.display()
                    ),
                ))
            }
        }
        _ => Ok(Some(previous.to_path_buf())),
    }
}

/// What changed from chapter folder `prev` to chapter folder `next`.
pub fn changes(prev: &Path, next: &Path) -> io::Result<String> {
    let name = |p: &Path| {
        p.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned())
    };
    let (prev_name, next_name) = (name(prev), name(next));
    let (before, after) = (files(prev)?, files(next)?);
    let list = |set: Vec<&PathBuf>| -> String {
        if set.is_empty() {
            "(none)".to_string()
        } else {
            set.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let added: Vec<&PathBuf> = after.difference(&before).collect();
    let removed: Vec<&PathBuf> = before.difference(&after).collect();
    let mut changed = Vec::new();
    let mut body = String::new();
    for path in before.intersection(&after) {
        let old = without_anchors(&std::fs::read_to_string(prev.join(path))?);
        let new = without_anchors(&std::fs::read_to_string(next.join(path))?);
        if old == new {
            continue;
        }
        changed.push(path);
        // The code a reader runs; tests are listed above but not shown line by line.
        if path.starts_with("tests") {
            continue;
        }
        let diff = similar::TextDiff::from_lines(&old, &new);
        body.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{prev_name}/{}", path.display()),
                    &format!("{next_name}/{}", path.display()),
                )
                .to_string(),
        );
    }
    Ok(format!(
        "# From chapters/{prev_name} to chapters/{next_name} (generated by ci/chapter-diff)\n\
         # added:   {}\n# removed: {}\n# changed: {}\n{body}",
        list(added),
        list(removed),
        list(changed.clone()),
    ))
}
