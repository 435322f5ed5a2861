//! "What changed since the previous chapter", generated, never hand-written.
//!
//! Every chapter from the second on has a `CHANGES.diff` in its folder (unless
//! it starts afresh, see [`base`]), with two anchored parts the page includes:
//! `stat`, which names every file added, removed or changed since the previous
//! chapter, with line counts for the library's source ([`is_library_source`]),
//! and `diff`, the unified diff of the library source files that changed,
//! which the page folds under its own summary of what changed and why. This
//! crate's test recomputes every one and fails when a committed file is stale;
//! `UPDATE_EXPECTED=1 cargo test -p chapter-diff` rewrites them.
//!
//! Left out: build output, transcripts (`expected/`), measurements
//! (`results/`, written by the benchmarks), the diff itself, and a
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
            if first
                .is_some_and(|f| f == "target" || f == "expected" || f == "results")
            {
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

/// Whether `path` (relative to a chapter folder) is the chapter's library
/// source, which the folded diff shows line by line: `src/` apart from the
/// programs (`main.rs`, `bin/`, chapter 14's `bench/`) and the exercises'
/// solutions. Everything else (examples, tests, manifests) is named only.
pub fn is_library_source(path: &Path) -> bool {
    let program = ["src/main.rs", "src/bin", "src/bench"]
        .iter()
        .any(|p| path.starts_with(p));
    let exercises = path
        .strip_prefix("src")
        .ok()
        .and_then(|rest| rest.components().next())
        .is_some_and(|first| {
            Path::new(first.as_os_str())
                .file_stem()
                .is_some_and(|stem| stem == "exercises")
        });
    path.starts_with("src") && !program && !exercises
}

/// The file `path` became when a module grew into a folder
/// (`src/executor.rs` to `src/executor/mod.rs`), if `after` has it.
fn moved_to(path: &Path, after: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    if path.extension()? != "rs" {
        return None;
    }
    let folder = path.with_extension("").join("mod.rs");
    after.contains(&folder).then_some(folder)
}

/// The page's width for the file lists, in characters.
const WIDTH: usize = 78;

/// `label` followed by `names`, wrapped at [`WIDTH`] with a hanging indent.
fn wrapped(label: &str, names: &[String]) -> String {
    let indent = " ".repeat(label.len());
    let mut out = String::new();
    let mut line = label.to_string();
    for (i, name) in names.iter().enumerate() {
        let piece = if i + 1 < names.len() {
            format!("{name}, ")
        } else {
            name.clone()
        };
        if line.len() + piece.trim_end().len() > WIDTH && line.len() > indent.len()
        {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.clone();
        }
        line.push_str(&piece);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// One line of the library's part of the summary.
struct Row {
    kind: &'static str,
    path: String,
    counts: String,
}

/// What changed from chapter folder `prev` to chapter folder `next`.
///
/// Two anchored parts, which the page includes separately: `stat`, a
/// summary that names every file added, removed or changed, with line counts
/// for the library's source; and `diff`, the unified diff of the library
/// source files that changed (added files are on the page as listings).
pub fn changes(prev: &Path, next: &Path) -> io::Result<String> {
    let name = |p: &Path| {
        p.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned())
    };
    let (prev_name, next_name) = (name(prev), name(next));
    let (before, after) = (files(prev)?, files(next)?);
    let read = |dir: &Path, path: &Path| -> io::Result<String> {
        Ok(without_anchors(&std::fs::read_to_string(dir.join(path))?))
    };
    let mut rows = Vec::new();
    let (mut other_added, mut other_removed, mut other_changed) =
        (vec![], vec![], vec![]);
    let mut body = String::new();
    // A module that became a folder is diffed against its old file.
    let moves: Vec<(PathBuf, PathBuf)> = before
        .difference(&after)
        .filter_map(|old| moved_to(old, &after).map(|new| (old.clone(), new)))
        .filter(|(_, new)| !before.contains(new))
        .collect();
    for path in before.union(&after) {
        if moves.iter().any(|(old, _)| old == path) {
            continue;
        }
        let moved_from = moves
            .iter()
            .find(|(_, new)| new == path)
            .map(|(old, _)| old);
        let shown = path.display().to_string();
        let (old, new) =
            match (before.contains(path), after.contains(path), moved_from) {
                (_, true, Some(from)) => (read(prev, from)?, read(next, path)?),
                (true, true, _) => (read(prev, path)?, read(next, path)?),
                (false, _, _) => (String::new(), read(next, path)?),
                (_, false, _) => (read(prev, path)?, String::new()),
            };
        if old == new && moved_from.is_none() {
            continue;
        }
        let library = is_library_source(path);
        let kind = if moved_from.is_some() {
            "moved"
        } else if !before.contains(path) {
            "new"
        } else if !after.contains(path) {
            "removed"
        } else {
            "changed"
        };
        let shown = match moved_from {
            Some(from) => format!("{} -> {shown}", from.display()),
            None => shown,
        };
        if !library {
            match kind {
                "new" => other_added.push(shown),
                "removed" => other_removed.push(shown),
                _ => other_changed.push(shown),
            }
            continue;
        }
        let diff = similar::TextDiff::from_lines(&old, &new);
        let counts = match kind {
            "new" => format!("{} lines", new.lines().count()),
            "removed" => format!("{} lines", old.lines().count()),
            _ => {
                let (mut plus, mut minus) = (0, 0);
                for change in diff.iter_all_changes() {
                    match change.tag() {
                        similar::ChangeTag::Insert => plus += 1,
                        similar::ChangeTag::Delete => minus += 1,
                        similar::ChangeTag::Equal => {}
                    }
                }
                let from = moved_from.unwrap_or(path).display();
                body.push_str(
                    &diff
                        .unified_diff()
                        .context_radius(3)
                        .header(
                            &format!("{prev_name}/{from}"),
                            &format!("{next_name}/{}", path.display()),
                        )
                        .to_string(),
                );
                format!("+{plus} -{minus}")
            }
        };
        rows.push(Row {
            kind,
            path: shown,
            counts,
        });
    }
    let mut stat = format!(
        "From chapters/{prev_name} to chapters/{next_name}, generated by ci/chapter-diff.\n\
         The library's source (src/ without its programs and the exercises):\n"
    );
    if rows.is_empty() {
        stat.push_str("  (unchanged)\n");
    }
    let width = rows.iter().map(|r| r.path.len()).max().unwrap_or(0);
    for row in &rows {
        stat.push_str(&format!(
            "  {:<8} {:<width$}  {}\n",
            row.kind, row.path, row.counts
        ));
    }
    stat.push_str("Around it (named here, not shown):\n");
    let mut any = false;
    for (label, names) in [
        ("  new      ", &other_added),
        ("  removed  ", &other_removed),
        ("  changed  ", &other_changed),
    ] {
        if !names.is_empty() {
            stat.push_str(&wrapped(label, names));
            any = true;
        }
    }
    if !any {
        stat.push_str("  (unchanged)\n");
    }
    if body.is_empty() {
        body = "# No file of the library's source changed; the new ones are shown on the page.\n"
            .to_string();
    }
    Ok(format!(
        "# ANCHOR: stat\n{stat}# ANCHOR_END: stat\n# ANCHOR: diff\n{body}# ANCHOR_END: diff\n"
    ))
}
