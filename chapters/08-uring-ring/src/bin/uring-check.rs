//! `cargo run --bin uring-check`: tells whether io_uring works here, and if
//! not, why and what to do about it.

use std::process::ExitCode;

fn main() -> ExitCode {
    match ch08_uring_ring::ring::open(8) {
        Ok(_) => {
            println!("io_uring works here.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
