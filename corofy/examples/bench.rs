//! Benchmark (not a test): rewrites a generated input of about 5,000 lines
//! with 200 coroutines and reports how long it took.
//!
//! `cargo run --release -p corofy --example bench`

use std::fmt::Write as _;
use std::time::{Duration, Instant};

const COROUTINES: usize = 200;
const TARGET: Duration = Duration::from_secs(1);

/// One coroutine of about 25 lines: locals across waits, an `if`, a `for`
/// loop, a `while` loop, `?` and a wait on another coroutine of the file.
fn coroutine(i: usize, out: &mut String) {
    let previous = if i == 0 {
        "let base: u32 = Countdown::new(1).wait;".to_string()
    } else {
        format!("let base: u32 = step_{}(1).wait?;", i - 1)
    };
    let _ = writeln!(
        out,
        r#"/// Step {i}: "coroutine fn" and ".wait" in a string {{ do not confuse corofy }}.
pub coroutine fn step_{i}(limit: u32) -> Option<u32> {{
    {previous}
    let mut total: u32 = base;
    let items: Vec<u32> = (0..limit).collect();
    for item in items {{
        // a comment with .wait in it
        let n = Countdown::new(item).wait;
        total += n;
    }}
    if total > {i} {{
        total += Countdown::new(2).wait;
    }} else {{
        total -= 1;
    }}
    let mut left: u32 = 3;
    while left > 0 {{
        left -= 1;
        let extra = Countdown::new(left).wait;
        if extra == 99 {{
            return None;
        }}
    }}
    Some(total + {i})
}}
"#
    );
}

fn main() {
    let mut input = String::from(
        "use crate::fixture::own::{Countdown, Future, PollState};\n\n",
    );
    for i in 0..COROUTINES {
        coroutine(i, &mut input);
    }
    let lines = input.lines().count();
    // One warm-up run, then the best of five.
    let output = corofy::rewrite(&input, "bench.coro", None)
        .expect("the benchmark input is valid");
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let again = corofy::rewrite(&input, "bench.coro", None).expect("valid");
        best = best.min(start.elapsed());
        assert_eq!(again, output, "corofy is deterministic");
    }
    println!(
        "corofy: {lines} input lines, {COROUTINES} coroutines -> {} output lines in {:.1} ms \
         (best of 5; target under {} ms{})",
        output.lines().count(),
        best.as_secs_f64() * 1000.0,
        TARGET.as_millis(),
        if cfg!(debug_assertions) {
            "; this is a debug build, use --release"
        } else {
            ""
        }
    );
    if best > TARGET && !cfg!(debug_assertions) {
        eprintln!("corofy: slower than the target");
        std::process::exit(1);
    }
}
