//! Writes random coroutines, has corofy rewrite them, and writes the same
//! programs as plain functions (see the crate's documentation).

use std::fmt::Write as _;
use std::path::Path;

/// The programs the test runs unless `COROFY_DIFF_SEED` says otherwise.
const SEED: u64 = 0x5eed_c0de;
/// How many, unless `COROFY_DIFF_PROGRAMS` says otherwise.
const PROGRAMS: usize = 120;

/// xorshift64*: a fixed seed gives the same programs on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        &items[self.below(items.len())]
    }
}

/// Writes one program's body. Every local is a `u32` (corofy needs the type
/// of what crosses a wait); loops burn `fuel` so that every program ends.
struct Writer<'r> {
    rng: &'r mut Rng,
    /// The locals in scope, innermost scope last.
    scopes: Vec<Vec<String>>,
    /// Locals that may not be assigned (arguments, loop variables, bounds).
    fixed: Vec<String>,
    locals: usize,
    labels: usize,
    loops: usize,
    /// Earlier programs this one may wait on (those that wait on none).
    callees: Vec<usize>,
}

impl Writer<'_> {
    fn in_scope(&self) -> Vec<String> {
        self.scopes.iter().flatten().cloned().collect()
    }

    fn fresh(&mut self) -> String {
        self.locals += 1;
        format!("v{}", self.locals)
    }

    fn declare(&mut self, name: &str) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(name.to_string());
        }
    }

    /// An expression without waits.
    fn expr(&mut self, depth: u32) -> String {
        let mut leaves = self.in_scope();
        leaves.push(format!("{}u32", self.rng.below(10)));
        if depth > 2 || self.rng.chance(35) {
            return self.rng.pick(&leaves).to_string();
        }
        match self.rng.below(3) {
            0 => format!(
                "{}.wrapping_add({})",
                self.expr(depth + 1),
                self.expr(depth + 1)
            ),
            1 => format!("({} % 7)", self.expr(depth + 1)),
            _ => format!("{}.wrapping_mul(3)", self.expr(depth + 1)),
        }
    }

    /// A call of an earlier program: `p3(x, y).wait` here, `s3(x, y)` plain.
    fn call(&mut self) -> Option<(String, String)> {
        if self.callees.is_empty() {
            return None;
        }
        let callee = self.callees[self.rng.below(self.callees.len())];
        let mut args = self.in_scope();
        args.push("1u32".into());
        let (x, y) = (
            self.rng.pick(&args).to_string(),
            self.rng.pick(&args).to_string(),
        );
        Some((
            format!("p{callee}({x}, {y}).wait"),
            format!("s{callee}({x}, {y})"),
        ))
    }

    /// A wait, both ways.
    fn wait(&mut self) -> (String, String) {
        if self.rng.chance(15)
            && let Some(call) = self.call()
        {
            return call;
        }
        let value = self.expr(1);
        (
            format!("Delay::new({value}).wait"),
            format!("Delay::new({value}).run()"),
        )
    }

    /// A condition, sometimes with a wait first in it.
    fn condition(&mut self) -> (String, String) {
        if self.rng.chance(25) {
            let (c, p) = self.wait();
            return (format!("{c} > 5"), format!("{p} > 5"));
        }
        let e = self.expr(1);
        let text = if self.rng.chance(50) {
            format!("{e} % 2 == 0")
        } else {
            format!("{e} > 5")
        };
        (text.clone(), text)
    }

    fn block(&mut self, depth: u32) -> (String, String) {
        self.scopes.push(Vec::new());
        let (mut c, mut p) = (String::new(), String::new());
        for _ in 0..1 + self.rng.below(4) {
            let (sc, sp) = self.statement(depth + 1);
            c.push_str(&sc);
            c.push(' ');
            p.push_str(&sp);
            p.push(' ');
        }
        self.scopes.pop();
        (c, p)
    }

    fn loop_body(&mut self, depth: u32) -> (String, String) {
        self.loops += 1;
        let body = self.block(depth);
        self.loops -= 1;
        body
    }

    /// One statement, as the coroutine and as the plain function.
    fn statement(&mut self, depth: u32) -> (String, String) {
        let same = |s: String| (s.clone(), s);
        let roll = if depth > 3 {
            self.rng.below(40)
        } else {
            self.rng.below(100)
        };
        match roll {
            0..15 => {
                let name = self.fresh();
                let (c, p) = self.wait();
                self.declare(&name);
                (
                    format!("let mut {name}: u32 = {c};"),
                    format!("let mut {name}: u32 = {p};"),
                )
            }
            15..25 => {
                let name = self.fresh();
                let e = self.expr(0);
                self.declare(&name);
                same(format!("let mut {name}: u32 = {e};"))
            }
            25..33 => {
                let free: Vec<String> = self
                    .in_scope()
                    .into_iter()
                    .filter(|v| !self.fixed.contains(v))
                    .collect();
                if free.is_empty() {
                    return same("note(1);".into());
                }
                let name = self.rng.pick(&free).to_string();
                if self.rng.chance(60) {
                    let (c, p) = self.wait();
                    (format!("{name} = {c};"), format!("{name} = {p};"))
                } else {
                    same(format!("{name} = {};", self.expr(0)))
                }
            }
            33..40 => same(format!("note({});", self.expr(0))),
            40..43 => {
                let (c, p) = self.wait();
                (format!("note({c});"), format!("note({p});"))
            }
            43..52 => {
                let (cc, cp) = self.condition();
                let (tc, tp) = self.block(depth);
                let (ec, ep) = self.block(depth);
                (
                    format!("if {cc} {{ {tc} }} else {{ {ec} }}"),
                    format!("if {cp} {{ {tp} }} else {{ {ep} }}"),
                )
            }
            52..57 => {
                let (bc, bp) = self.loop_body(depth);
                let (cc, cp) = self.condition();
                let shape = |b: &str, c: &str| {
                    format!(
                        "loop {{ fuel += 1; if fuel > 40 {{ break; }} {b} if {c} {{ break; }} }}"
                    )
                };
                (shape(&bc, &cc), shape(&bp, &cp))
            }
            57..62 => {
                let (cc, cp) = self.condition();
                let (bc, bp) = self.loop_body(depth);
                let shape = |c: &str, b: &str| {
                    format!(
                        "while {c} {{ fuel += 1; if fuel > 40 {{ break; }} {b} }}"
                    )
                };
                (shape(&cc, &bc), shape(&cp, &bp))
            }
            62..67 => {
                let (bound, item) = (self.fresh(), self.fresh());
                let e = self.expr(0);
                self.declare(&bound);
                self.fixed.extend([bound.clone(), item.clone()]);
                self.scopes.push(vec![item.clone()]);
                let (bc, bp) = self.loop_body(depth);
                self.scopes.pop();
                let shape = |b: &str| {
                    format!(
                        "let {bound}: u32 = {e} % 4; for {item} in 0..{bound} {{ fuel += 1; {b} }}"
                    )
                };
                (shape(&bc), shape(&bp))
            }
            67..72 => {
                let (sc, sp) = if self.rng.chance(30) {
                    self.wait()
                } else {
                    same(self.expr(0))
                };
                let arms: Vec<(String, String)> =
                    (0..3).map(|_| self.block(depth)).collect();
                let shape = |s: &str, a: [&str; 3]| {
                    format!(
                        "match {s} % 3 {{ 0 => {{ {} }} 1 => {{ {} }} _ => {{ {} }} }}",
                        a[0], a[1], a[2]
                    )
                };
                (
                    shape(&sc, [&arms[0].0, &arms[1].0, &arms[2].0]),
                    shape(&sp, [&arms[0].1, &arms[1].1, &arms[2].1]),
                )
            }
            72..76 => {
                let (cc, cp) = self.condition();
                let e = self.expr(0);
                (
                    format!("if {cc} {{ return {e}; }}"),
                    format!("if {cp} {{ return {e}; }}"),
                )
            }
            76..80 if self.loops > 0 => {
                let (cc, cp) = self.condition();
                (
                    format!("if {cc} {{ break; }}"),
                    format!("if {cp} {{ break; }}"),
                )
            }
            80..84 if self.loops > 0 => {
                let (cc, cp) = self.condition();
                (
                    format!("if {cc} {{ fuel += 1; continue; }}"),
                    format!("if {cp} {{ fuel += 1; continue; }}"),
                )
            }
            84..87 => {
                self.labels += 1;
                let label = format!("'l{}", self.labels);
                let (bc, bp) = self.loop_body(depth);
                let (xc, xp) = self.condition();
                let (yc, yp) = self.condition();
                let shape = |b: &str, x: &str, y: &str| {
                    format!(
                        "{label}: loop {{ fuel += 1; if fuel > 40 {{ break; }} loop {{ fuel += 1; \
                         if fuel > 40 {{ break {label}; }} {b} if {x} {{ break {label}; }} \
                         if {y} {{ break; }} }} }}"
                    )
                };
                (shape(&bc, &xc, &yc), shape(&bp, &xp, &yp))
            }
            87..90 => {
                let (c, p) = self.block(depth);
                (format!("{{ {c} }}"), format!("{{ {p} }}"))
            }
            90..95 => {
                // Shadow a local of this scope with a waited value.
                let Some(name) = self.scopes.last().and_then(|s| s.last()).cloned()
                else {
                    return same("note(2);".into());
                };
                let (c, p) = self.wait();
                self.fixed.retain(|f| *f != name);
                (
                    format!("let mut {name}: u32 = {c};"),
                    format!("let mut {name}: u32 = {p};"),
                )
            }
            _ => same(format!("note({});", self.expr(0))),
        }
    }
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=COROFY_DIFF_SEED");
    println!("cargo::rerun-if-env-changed=COROFY_DIFF_PROGRAMS");
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(number("COROFY_DIFF_SEED", SEED).max(1));
    let programs = number("COROFY_DIFF_PROGRAMS", PROGRAMS as u64) as usize;

    let (mut coroutines, mut plain, mut cases) =
        (String::new(), String::new(), String::new());
    cases.push_str("/// Every program.\npub const CASES: &[Case] = &[\n");
    for i in 0..programs {
        // Odd programs may wait on the even ones before them, which wait on none.
        let callees = if i % 2 == 1 {
            (0..i).step_by(2).collect()
        } else {
            Vec::new()
        };
        let mut writer = Writer {
            rng: &mut rng,
            scopes: vec![vec!["a".into(), "b".into()]],
            fixed: vec!["a".into(), "b".into()],
            locals: 0,
            labels: 0,
            loops: 0,
            callees,
        };
        let (mut body_c, mut body_p) = (String::new(), String::new());
        for _ in 0..2 + writer.rng.below(6) {
            let (c, p) = writer.statement(0);
            body_c.push_str(&c);
            body_c.push(' ');
            body_p.push_str(&p);
            body_p.push(' ');
        }
        let (tail_c, tail_p) = if writer.rng.chance(50) {
            writer.wait()
        } else {
            (
                "a.wrapping_add(b)".to_string(),
                "a.wrapping_add(b)".to_string(),
            )
        };
        let head = "(a: u32, b: u32) -> u32 { let mut fuel: u32 = 0;";
        let source = format!(
            "pub coroutine fn p{i}{head} {body_c}let _ = fuel; {tail_c} }}"
        );
        let _ = writeln!(coroutines, "{source}");
        let _ =
            writeln!(plain, "pub fn s{i}{head} {body_p}let _ = fuel; {tail_p} }}");
        let _ = writeln!(
            cases,
            "    Case {{ source: {source:?}, machine: |a, b| fixture::block_on(programs::p{i}(a, b)), \
             plain: programs::s{i} }},"
        );
    }
    cases.push_str("];\n");

    let generated = match corofy::rewrite(&coroutines, "random.coro", None) {
        Ok(generated) => generated,
        Err(e) => panic!(
            "corofy refused a generated program (a bug in corofy or in this generator):\n{}",
            e.render("random.coro", &coroutines)
        ),
    };
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    for (name, text) in [
        ("machines.rs", &generated),
        ("plain.rs", &plain),
        ("cases.rs", &cases),
    ] {
        if let Err(e) = std::fs::write(Path::new(&out).join(name), text) {
            panic!("cannot write {name} in {out}: {e}");
        }
    }
}
