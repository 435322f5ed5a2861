//! Bad uses of `#[main]`, and a task that is not `Send`, fail to compile
//! with an error that points at the mistake. trybuild compiles each file in
//! `tests/ui` and compares the compiler's output with the `.stderr` next to
//! it (`TRYBUILD=overwrite` rewrites them after a deliberate change).

#[test]
fn bad_uses_are_compile_errors_that_point_at_the_mistake() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
