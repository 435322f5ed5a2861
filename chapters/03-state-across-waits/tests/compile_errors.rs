//! A state that borrows from itself: `tests/ui/self_borrow.rs` must fail to
//! compile, with the errors in the `.stderr` beside it (the page shows both).

#[test]
fn a_state_that_borrows_itself_does_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
