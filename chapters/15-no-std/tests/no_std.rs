//! The executor needs nothing but `core`: `bare/` is a program with no std
//! and no allocator that uses it. This builds it (a separate workspace, for
//! `panic = "abort"`), runs it, and checks that nothing in it asks for a heap.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use std::process::Command;

mod bare;

#[test]
fn the_executor_builds_and_runs_in_a_program_without_std_or_heap() {
    let program = bare::build();
    let output = Command::new(&program).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with(
            "no std, no heap: spawned both: true; AllFinished after 5 ticks;"
        ),
        "{text}"
    );
    // The binary names every C function it calls; an allocator is not one.
    let binary = std::fs::read(&program).unwrap();
    let names = |name: &[u8]| binary.windows(name.len()).any(|w| w == name);
    assert!(
        names(b"write\0"),
        "the check itself is broken: `write` not found"
    );
    for allocator in [
        &b"malloc\0"[..],
        b"calloc\0",
        b"realloc\0",
        b"__rust_alloc\0",
    ] {
        assert!(
            !names(allocator),
            "{} is linked",
            String::from_utf8_lossy(allocator)
        );
    }
}
