//! Each random coroutine, rewritten by corofy, gives what the same code gives
//! run synchronously: the same result and the same side effects in the same
//! order, on several inputs.

use corofy_differential::{CASES, fixture};

#[test]
fn every_machine_behaves_like_the_plain_code() {
    assert!(CASES.len() >= 100, "only {} programs", CASES.len());
    let mut mismatches = Vec::new();
    for case in CASES {
        for (a, b) in [(0, 1), (3, 4), (7, 2), (10, 9)] {
            let machine = (case.machine)(a, b);
            let machine_effects = fixture::take();
            let plain = (case.plain)(a, b);
            let plain_effects = fixture::take();
            if (machine, &machine_effects) != (plain, &plain_effects) {
                mismatches.push(format!(
                    "({a}, {b}): the machine gives {machine} after {machine_effects:?}, \
                     the plain code {plain} after {plain_effects:?}\n{}",
                    case.source
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} runs differ:\n{}",
        mismatches.len(),
        CASES.len() * 4,
        mismatches.join("\n\n")
    );
}

#[test]
fn the_programs_exercise_what_they_should() {
    let all: String = CASES.iter().map(|c| c.source).collect();
    for construct in [
        ".wait",
        "loop {",
        "while ",
        "for ",
        "match ",
        "break 'l",
        "continue;",
        "return ",
        "if Delay",
        ").wait > 5",
        "p0(",
    ] {
        let count = all.matches(construct).count();
        assert!(count >= 10, "{construct:?} appears only {count} times");
    }
}
