//! Thousands of mutated corpus inputs (tokens deleted, duplicated or swapped,
//! truncation, random bytes): corofy either succeeds with output that parses
//! as Rust, or refuses with an error located at a line and column. Never a
//! panic, never an unlocated (internal) error.

#![allow(clippy::unwrap_used)] // in a test, a panic is the failure report

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

/// How many mutated inputs one run tries (`COROFY_FUZZ_CASES` overrides).
const CASES: u32 = 4000;

fn corpus() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut inputs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "coro"))
        .collect();
    inputs.sort();
    inputs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Splits text into tokens: runs of letters, digits and `_`, runs of
/// whitespace, and single other characters.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    for c in text.chars() {
        match out.last_mut() {
            Some(last)
                if class(c) != 2
                    && last
                        .chars()
                        .last()
                        .is_some_and(|l| class(l) == class(c)) =>
            {
                last.push(c)
            }
            _ => out.push(c.to_string()),
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Swap(usize, usize),
    Truncate(usize),
    Insert(usize, Vec<u8>),
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut toks = tokens(text);
    for m in mutations {
        let n = toks.len().max(1);
        match m {
            Mutation::Delete(at, len) => {
                let at = at % n;
                let end = (at + len % 4 + 1).min(toks.len());
                toks.drain(at.min(toks.len())..end);
            }
            Mutation::Duplicate(at, len) => {
                let at = at % n;
                let end = (at + len % 4 + 1).min(toks.len());
                let copy: Vec<String> = toks[at.min(toks.len())..end].to_vec();
                toks.splice(at.min(toks.len())..at.min(toks.len()), copy);
            }
            Mutation::Swap(a, b) => {
                if !toks.is_empty() {
                    toks.swap(a % n, b % n);
                }
            }
            Mutation::Truncate(at) => {
                let joined = toks.concat();
                let mut cut = at % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                toks = tokens(&joined[..cut]);
            }
            Mutation::Insert(at, bytes) => {
                let at = (at % n).min(toks.len());
                toks.insert(at, String::from_utf8_lossy(bytes).into_owned());
            }
        }
    }
    toks.concat()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| Mutation::Delete(a, l)),
        (any::<usize>(), any::<usize>())
            .prop_map(|(a, l)| Mutation::Duplicate(a, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
    ]
}

#[test]
fn mutated_inputs_never_panic_and_errors_are_located() {
    let corpus = corpus();
    let cases = std::env::var("COROFY_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    let mut config = Config::with_cases(cases);
    let accepted = std::cell::Cell::new(0u32);
    let refused = std::cell::Cell::new(0u32);
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Off));
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (0..corpus.len(), prop::collection::vec(mutation(), 1..4));
    runner
        .run(&strategy, |(index, mutations)| {
            let input = mutate(&corpus[index], &mutations);
            match corofy::rewrite(&input, "mutated.coro", None) {
                Ok(output) => {
                    accepted.set(accepted.get() + 1);
                    prop_assert!(
                        syn::parse_file(&output).is_ok(),
                        "output does not parse:\n{output}"
                    );
                }
                Err(e) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(
                        e.line >= 1 && e.column >= 1,
                        "unlocated error {e:?} for:\n{input}"
                    );
                    let report = e.render("mutated.coro", &input);
                    let prefix =
                        format!("mutated.coro:{}:{}: error: ", e.line, e.column);
                    prop_assert!(report.starts_with(&prefix), "{}", report);
                }
            }
            Ok(())
        })
        .unwrap();
    let (accepted, refused) = (accepted.get(), refused.get());
    eprintln!(
        "fuzz: {cases} mutated inputs: {accepted} rewritten, {refused} refused with a location"
    );
    // Both outcomes must be exercised, or the mutations are too weak or too strong.
    assert!(
        accepted > cases / 20 && refused > cases / 20,
        "{accepted} / {refused}"
    );
}

#[test]
fn the_mutator_changes_inputs() {
    let text = "let x = a.wait;";
    assert_eq!(tokens(text).concat(), text);
    assert_eq!(mutate(text, &[Mutation::Delete(0, 0)]), " x = a.wait;");
    assert_eq!(mutate(text, &[Mutation::Truncate(5)]), "let x");
}
