//! "What changed": a page shows a chapter's generated `CHANGES.diff` (see the
//! `chapter-diff` crate) in two parts, and says in its own words what changed
//! and why. The checker keeps the three together:
//!
//! * the file is included by its anchors, `stat` and `diff`, never whole;
//! * the `diff` part is folded (inside an open `<details>`), since it runs to
//!   hundreds of lines;
//! * the prose of the section before the `stat` names, in backticks, every
//!   file of the library's source that the stat lists, so a summary cannot
//!   fall behind the code it summarises.

use std::path::Path;

/// The paths of the library's source that a `stat` part lists as new,
/// moved or changed: the rows between its "The library's source" and "Around
/// it" lines. A moved file (`old -> new`) is named by where it is now; a
/// removed one need not be named (it is no longer there for the prose checker
/// to find).
fn library_files(stat: &str) -> Vec<String> {
    stat.lines()
        .skip_while(|l| !l.starts_with("The library's source"))
        .skip(1)
        .take_while(|l| !l.starts_with("Around it"))
        .filter_map(|row| {
            let words: Vec<&str> = row.split_whitespace().collect();
            match words.as_slice() {
                ["moved", _, "->", new, ..] => Some((*new).to_string()),
                ["removed", ..] => None,
                [_, path, ..] if path.contains('/') => Some((*path).to_string()),
                _ => None,
            }
        })
        .collect()
}

/// The problems with the page's "what changed" includes, by 1-based line.
/// `page_dir` is the folder the page's include paths are relative to.
pub(crate) fn check(page_dir: &Path, text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut problems = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(argument) = line
            .trim()
            .strip_prefix("{{#include ")
            .and_then(|rest| rest.strip_suffix("}}"))
        else {
            continue;
        };
        let (path, anchor) = argument.split_once(':').unwrap_or((argument, ""));
        if !path.ends_with("CHANGES.diff") {
            continue;
        }
        let before = &lines[..index];
        match anchor {
            "stat" => {
                let Ok(contents) = std::fs::read_to_string(page_dir.join(path)) else {
                    continue; // reported as a missing file
                };
                let Ok(stat) = crate::anchored_text(&contents, "stat") else {
                    continue; // reported as a missing anchor
                };
                let section_start = before
                    .iter()
                    .rposition(|l| l.starts_with("## "))
                    .unwrap_or(0);
                let prose = before[section_start..].join("\n");
                let missing: Vec<String> = library_files(&stat)
                    .into_iter()
                    .filter(|file| !prose.contains(&format!("`{file}`")))
                    .collect();
                if !missing.is_empty() {
                    problems.push((
                        index + 1,
                        format!(
                            "the summary before this include does not name {}: say in the \
                             section's prose what changed in each file of the library's \
                             source and why (backticked paths, as the stat lists them)",
                            missing
                                .iter()
                                .map(|f| format!("`{f}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            "diff" => {
                let opened = before.iter().rposition(|l| l.trim_start().starts_with("<details"));
                let closed = before.iter().rposition(|l| l.trim_start().starts_with("</details"));
                if opened.is_none() || closed > opened {
                    problems.push((
                        index + 1,
                        "the generated diff is not folded: put it inside <details> with a \
                         <summary>, after the section's summary and its stat"
                            .to_string(),
                    ));
                }
            }
            _ => problems.push((
                index + 1,
                format!(
                    "{path} is included {}: include its `stat` part after the section's \
                     summary, and its `diff` part folded in <details>",
                    if anchor.is_empty() {
                        "whole".to_string()
                    } else {
                        format!("by anchor `{anchor}`")
                    }
                ),
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::library_files;

    #[test]
    fn the_library_rows_of_a_stat_are_found() {
        let stat = "From chapters/a to chapters/b, generated by ci/chapter-diff.\n\
                    The library's source (src/ without its programs and the exercises):\n  \
                    new      src/x.rs                          12 lines\n  \
                    moved    src/e.rs -> src/e/mod.rs          +3 -1\n  \
                    changed  src/lib.rs                        +1 -1\n  \
                    removed  src/gone.rs                       9 lines\n\
                    Around it (named here, not shown):\n  \
                    changed  src/main.rs, tests/t.rs\n";
        assert_eq!(
            library_files(stat),
            ["src/x.rs", "src/e/mod.rs", "src/lib.rs"]
        );
        let unchanged = "The library's source (...):\n  (unchanged)\nAround it:\n";
        assert!(library_files(unchanged).is_empty());
    }
}
