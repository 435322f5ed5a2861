//! What `Pin` refuses: each program in `tests/ui/` must fail to compile, with
//! the error in the `.stderr` beside it (the page shows both).

#[test]
fn pinning_rules_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
