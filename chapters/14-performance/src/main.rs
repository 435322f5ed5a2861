//! Chapter 14: the benchmark. `cargo run --release` measures our runtimes
//! against tokio and monoio on this machine and writes `results/`: the raw
//! numbers (`results.tsv`), the tables the page includes (`tables.md`) and
//! the plots (`*.svg`), all made from the numbers.
//!
//! The one binary plays every part: without arguments it is the benchmark,
//! and it starts copies of itself as the servers (`serve NAME`) and for the
//! measurements made inside one runtime (`micro TEST RUNTIME N`).
//! `report` remakes the tables and plots from `results.tsv`, and
//! `report --check` says whether the committed ones are what it makes.

mod bench;

use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = match args.as_slice() {
        [] => bench::run(&bench::Options::full()),
        ["--quick", "--out", dir] => bench::run(&bench::Options::quick(dir)),
        ["--only", names] => bench::run(&bench::Options {
            only: Some(names.split(',').map(str::to_string).collect()),
            ..bench::Options::full()
        }),
        ["serve", name] => bench::servers::serve(name),
        ["micro", test, runtime, n] => bench::micro::run(test, runtime, n),
        ["report"] => bench::report::write(&bench::results_dir()),
        ["report", "--check"] => bench::report::check(&bench::results_dir()),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "usage: ch14-performance [--quick --out DIR | --only NAME,NAME | serve NAME \
             | micro TEST RUNTIME N | report [--check]]\n(no arguments: the whole \
             benchmark, which writes results/; --only compares a few servers and \
             writes nothing)",
        )),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
