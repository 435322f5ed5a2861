//! Builds `bare/`, the program without std (its own workspace, for
//! `panic = "abort"`), and returns the path of its binary.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn build() -> PathBuf {
    let chapter = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = chapter.join("../../target/ch15-bare");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--locked", "--manifest-path"])
        .arg(chapter.join("bare/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build bare/: {e}"));
    assert!(
        built.success(),
        "bare/ did not build without std; cargo's errors are above"
    );
    target.join("debug/ch15-bare")
}
