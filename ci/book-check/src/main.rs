//! `cargo run -q -p book-check [ROOT]`: checks the book under ROOT (default: the
//! current directory, which should be the repository root). Prints one
//! `path:line: message` per problem and exits 1 if there is any.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    match book_check::check(&root) {
        Ok((diagnostics, stats)) if diagnostics.is_empty() => {
            println!(
                "book-check: ok ({} pages, {} includes, {} transcripts)",
                stats.pages, stats.includes, stats.transcripts
            );
            ExitCode::SUCCESS
        }
        Ok((diagnostics, _)) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            eprintln!("book-check: {} problem(s)", diagnostics.len());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("book-check: {e}");
            ExitCode::from(2)
        }
    }
}
