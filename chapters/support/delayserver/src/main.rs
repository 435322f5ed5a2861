//! Runs the delay server on its own, for readers who want to watch it:
//! `cargo run -p delayserver -- 127.0.0.1:8080`, then
//! `curl http://127.0.0.1:8080/500/hello`.

use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info"),
    )
    .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    match delayserver::DelayServer::bind(addr.as_str()) {
        Ok(server) => {
            println!(
                "delay server on http://{0}; try: curl http://{0}/500/hello (Ctrl-C stops it)",
                server.addr()
            );
            server.run_forever();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
