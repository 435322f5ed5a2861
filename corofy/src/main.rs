//! The `corofy` command. Run `corofy --help` for usage.

use corofy::{Error, Target};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// ANCHOR: usage
const USAGE: &str = "\
corofy: rewrites `coroutine fn` items with `.wait` points into state machines

Usage:
  corofy [--target own|waker|std] INPUT.coro...     write INPUT.rs beside each input
  corofy [--target ...] INPUT.coro -o OUTPUT.rs     write OUTPUT.rs (`-o -`: stdout)
  corofy --check INPUT.coro...                      exit 1 if a committed INPUT.rs is stale

Options:
  --target NAME   the trait the machines implement: `own` (the book's Future of
                  Part I, the default), `waker` (Part II's Future with a waker) or
                  `std` (std::future::Future). A `#![corofy(target = \"...\")]` line
                  at the top of the input does the same.
  -o, --output P  where to write the output (only with one input); `-` is stdout
  --check         compare instead of write; prints a short diff when stale
  -h, --help      this text
  -V, --version   the version

Example:
  // requests.coro
  use crate::future::{Future, PollState};
  use crate::http::HttpGet;

  pub coroutine fn two(addr: std::net::SocketAddr) -> std::io::Result<String> {
      let first: String = HttpGet::new(addr, \"/100/a\").wait?;
      let second = HttpGet::new(addr, \"/100/b\").wait?;
      Ok(first + &second)
  }

  $ corofy requests.coro        # writes requests.rs

Exit status: 0 done, 1 an input was refused (or is stale with --check), 2 usage error.
";
// ANCHOR_END: usage

struct Args {
    target: Option<Target>,
    output: Option<String>,
    check: bool,
    inputs: Vec<PathBuf>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        target: None,
        output: None,
        check: false,
        inputs: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("corofy {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--check" => args.check = true,
            "--target" => {
                let name = it
                    .next()
                    .ok_or("--target needs a name: own, waker or std")?;
                args.target = Some(Target::from_name(&name).ok_or_else(|| {
                    format!("unknown target {name:?}: use own, waker or std")
                })?);
            }
            "-o" | "--output" => {
                args.output =
                    Some(it.next().ok_or("-o needs a path (or - for stdout)")?);
            }
            other if other.starts_with("--target=") => {
                let name = &other["--target=".len()..];
                args.target = Some(Target::from_name(name).ok_or_else(|| {
                    format!("unknown target {name:?}: use own, waker or std")
                })?);
            }
            other if other.starts_with('-') && other != "-" => {
                return Err(format!("unknown option {other}"));
            }
            input => args.inputs.push(PathBuf::from(input)),
        }
    }
    if args.inputs.is_empty() {
        return Err("no input file".into());
    }
    if args.output.is_some() && (args.inputs.len() > 1 || args.check) {
        return Err("-o goes with exactly one input and without --check".into());
    }
    if !args.check {
        for input in &args.inputs {
            let Some(output) = output_for(input, &args) else {
                continue;
            };
            if let Some(hit) = args.inputs.iter().find(|i| same_file(i, &output)) {
                let fix = if args.output.is_some() {
                    "give -o another path"
                } else {
                    "name the input .coro, or give the output a path with -o"
                };
                return Err(format!(
                    "the output of {} would overwrite the input {} (the same file): {fix}",
                    input.display(),
                    hit.display()
                ));
            }
        }
    }
    Ok(Some(args))
}

/// Where the output of `input` goes: `None` for stdout.
fn output_for(input: &Path, args: &Args) -> Option<PathBuf> {
    match args.output.as_deref() {
        Some("-") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => Some(input.with_extension("rs")),
    }
}

/// Whether `a` and `b` name one existing file, whatever the spelling
/// (`./x`, a symbolic or, on Unix, a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
            return false;
        };
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// What happened to one input.
enum Outcome {
    Done,
    Refused,
}

fn main() -> ExitCode {
    // A bug in corofy is reported as an internal error (see `corofy::rewrite`),
    // not as a panic message and a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corofy: {e}\nRun `corofy --help` for usage.");
            return ExitCode::from(2);
        }
    };
    let mut status = ExitCode::SUCCESS;
    for input in &args.inputs {
        match process(input, &args) {
            Ok(Outcome::Done) => {}
            Ok(Outcome::Refused) => status = ExitCode::FAILURE,
            Err(message) => {
                eprintln!("corofy: {message}");
                return ExitCode::from(2);
            }
        }
    }
    status
}

/// `Err` is a usage problem (a file that cannot be read or written).
fn process(input: &Path, args: &Args) -> Result<Outcome, String> {
    let shown = input.display().to_string();
    let source = std::fs::read_to_string(input)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if input.extension().is_some_and(|e| e == "rs") && args.output.is_none() {
        return Err(format!(
            "{shown} ends in .rs: the output would overwrite it; name the input .coro or use -o"
        ));
    }
    let file_name = input
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    let generated = match corofy::rewrite(&source, &file_name, args.target) {
        Ok(generated) => generated,
        Err(e) => {
            report(&e, &shown, &source);
            return Ok(Outcome::Refused);
        }
    };
    let Some(output) = output_for(input, args) else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(generated.as_bytes())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
        return Ok(Outcome::Done);
    };
    if args.check {
        let committed = std::fs::read_to_string(&output).unwrap_or_default();
        if committed == generated {
            return Ok(Outcome::Done);
        }
        eprintln!(
            "corofy: {} is stale: it is not what corofy generates from {shown} now. \
             Run `corofy {shown}` and commit the result.",
            output.display()
        );
        let diff = similar::TextDiff::from_lines(&committed, &generated);
        let text = diff
            .unified_diff()
            .context_radius(2)
            .header(&output.display().to_string(), "generated now")
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        for line in lines.iter().take(40) {
            eprintln!("{line}");
        }
        if lines.len() > 40 {
            eprintln!("... ({} more lines of diff)", lines.len() - 40);
        }
        return Ok(Outcome::Refused);
    }
    write_atomically(&output, &generated)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    Ok(Outcome::Done)
}

fn report(e: &Error, path: &str, source: &str) {
    eprint!("{}", e.render(path, source));
}

/// Writes to a temporary file beside `path`, then renames it into place, so a
/// failure never leaves a half-written output behind.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.corofy-{}", std::process::id()));
    let result =
        std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
