//! Every chapter's committed CHANGES.diff is what the chapters hold now.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::path::Path;

#[test]
fn every_changes_diff_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let update = transcript::update_requested();
    let chapters = chapter_diff::chapters(&root).unwrap();
    assert!(!chapters.is_empty());
    let mut stale = Vec::new();
    for pair in chapters.windows(2) {
        let path = pair[1].join(chapter_diff::FILE);
        let Some(base) = chapter_diff::base(&pair[0], &pair[1]).unwrap() else {
            assert!(
                !path.exists(),
                "{} starts afresh (based-on = \"none\") and has nothing to compare with",
                path.display()
            );
            continue;
        };
        let generated = chapter_diff::changes(&base, &pair[1]).unwrap();
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            if update {
                std::fs::write(&path, &generated).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; run `UPDATE_EXPECTED=1 cargo test -p chapter-diff` and review `git diff`"
    );
    let first = chapters[0].join(chapter_diff::FILE);
    assert!(
        !first.exists(),
        "the first chapter has nothing to compare with"
    );
}
