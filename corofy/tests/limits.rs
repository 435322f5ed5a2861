//! Pathological input: nesting and chains far deeper than any real code.
//! Up to corofy's limit every shape is rewritten (on a debug build, whose
//! recursion needs the most stack); past it, the answer is a located error.
//! Never a stack overflow, which would kill the process with no message.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

/// A coroutine's body that nests or chains one pattern `n` times.
type Shape = fn(usize) -> String;

/// Each shape, by name.
const SHAPES: &[(&str, Shape)] = &[
    ("parentheses around the awaited future", |n| {
        format!(
            "let x: u32 = {}G::new(){}.wait; x",
            "(".repeat(n),
            ")".repeat(n)
        )
    }),
    ("blocks around the wait", |n| {
        format!(
            "{} let x: u32 = G::new().wait; x {}",
            "{".repeat(n),
            "}".repeat(n)
        )
    }),
    ("ifs around the wait", |n| {
        format!(
            "{} let x: u32 = G::new().wait; {} 1",
            "if true {".repeat(n),
            "}".repeat(n)
        )
    }),
    ("generics in a local's type", |n| {
        format!(
            "let x: {}u32{} = G::new().wait; 1",
            "Vec<".repeat(n),
            ">".repeat(n)
        )
    }),
    ("closures", |n| {
        format!(
            "let x: u32 = G::new().wait; let c = {}1; x",
            "|| ".repeat(n)
        )
    }),
    ("a chain of additions", |n| {
        format!("let x: u32 = G::new().wait; x{}", " + 1".repeat(n))
    }),
    ("references", |n| {
        format!(
            "let x: u32 = G::new().wait; let y: {}u32 = {}x; x",
            "&".repeat(n),
            "&".repeat(n)
        )
    }),
    ("a chain of method calls", |n| {
        format!("let x: u32 = G::new().wait; x{}", ".max(1)".repeat(n))
    }),
    ("a chain of casts", |n| {
        format!("let x: u32 = G::new().wait; x{}", " as u32".repeat(n))
    }),
    ("an else-if chain", |n| {
        format!(
            "let x: u32 = G::new().wait; if x == 0 {{ 1 }}{} else {{ x }}",
            " else if true { 1 }".repeat(n)
        )
    }),
    ("nested matches", |n| {
        format!(
            "let x: u32 = G::new().wait; {}x{}",
            "match 1 { _ => ".repeat(n),
            " }".repeat(n)
        )
    }),
];

fn source(body: &str) -> String {
    format!("coroutine fn f() -> u32 {{ {body} }}\n")
}

fn refused_for_depth(result: &Result<String, corofy::Error>) -> bool {
    matches!(result, Err(e) if e.message.contains("nested too deeply") && e.line == 1)
}

#[test]
fn every_shape_is_rewritten_up_to_the_limit_and_refused_past_it() {
    for (name, shape) in SHAPES {
        let rewrite =
            |n: usize| corofy::rewrite(&source(&shape(n)), "deep.coro", None);
        // Far past the limit: refused, where the limit was crossed.
        let far = rewrite(100_000);
        assert!(refused_for_depth(&far), "{name} x 100000: {:?}", far.err());
        // The largest n within the limit (corofy's own measure, bisected),
        // and every shape allows at least a hundred levels ...
        let within = |n: usize| corofy::nesting(&source(&shape(n))).is_ok();
        let (mut ok, mut refused) = (1, corofy::MAX_NESTING + 1);
        assert!(within(ok) && !within(refused), "{name}");
        while refused - ok > 1 {
            let mid = (ok + refused) / 2;
            if within(mid) {
                ok = mid;
            } else {
                refused = mid;
            }
        }
        assert!(ok >= 100, "{name}: only {ok} levels are within the limit");
        // ... which are rewritten into code that parses: no stack overflow
        // (that would abort this test), no other refusal.
        let at_limit = rewrite(ok);
        assert!(at_limit.is_ok(), "{name} x {ok}: {:?}", at_limit.err());
        assert!(refused_for_depth(&rewrite(ok + 1)), "{name} x {}", ok + 1);
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_left_out() {
    let plain = "coroutine fn f() -> u32 { let x: u32 = G::new().wait; x }\n";
    let with_mark = format!("\u{feff}{plain}");
    assert_eq!(
        corofy::rewrite(&with_mark, "f.coro", None).unwrap(),
        corofy::rewrite(plain, "f.coro", None).unwrap()
    );
    // An error on the first line is placed as if the mark were not there.
    let bad = "\u{feff}coroutine fn f() -> u32 { let x = g().wait; x }\n";
    let error = corofy::rewrite(bad, "f.coro", None).unwrap_err();
    let report = error.render("f.coro", bad);
    let column = "coroutine fn f() -> u32 { let x = ".len() + 1;
    assert!(
        report.starts_with(&format!("f.coro:1:{column}: error:")),
        "{report}"
    );
    let caret = report.lines().nth(3).unwrap();
    assert_eq!(caret.find('^'), Some("  | ".len() + column - 1), "{report}");
}
