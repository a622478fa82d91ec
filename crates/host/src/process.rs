//! The holder process's `main`: `paddock-holder` (a small binary of its own, so a long-lived
//! holder keeps few pages resident) or `paddock __holder` when that binary is not installed. `paddock run` and the supervisor start it
//! through `paddock_host::launch`, with the spec as JSON on stdin (a command to run in a PTY,
//! or a tmux pane to mirror: see `paddock_host::spec`), and read one JSON line from its
//! stdout: `{"ok": {...}}` once the session runs, or `{"error": "..."}`. The holder's stderr
//! is its log file.

use crate::launch::Report;
use crate::HolderSpec;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

pub fn main() -> ExitCode {
    // Our own session: no controlling terminal, so closing the terminal that ran
    // `paddock run` (SIGHUP) or pressing Ctrl-C there cannot reach us.
    let _ = nix::unistd::setsid();
    init_logging();

    let mut input = Vec::new();
    let spec: HolderSpec = match std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_slice(&input).map_err(|e| e.to_string()))
    {
        Ok(spec) => spec,
        Err(e) => {
            report(Report::Error(format!(
                "the holder got an invalid spec: {e}"
            )));
            return ExitCode::FAILURE;
        }
    };
    let dir = match crate::runtime_dir() {
        Ok(d) => d,
        Err(e) => {
            report(Report::Error(e.to_string()));
            return ExitCode::FAILURE;
        }
    };
    // The holder's log file is its own, so the session id is said once here.
    tracing::info!(session = %spec.id, "holder starting");
    let result = crate::run(spec, dir, |r| {
        report(match r {
            Ok(ready) => Report::Ok(ready),
            Err(e) => Report::Error(e),
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "holder failed");
            ExitCode::FAILURE
        }
    }
}

/// Prints the report line, then points stdin and stdout at /dev/null so that nothing later
/// writes into a pipe whose reader (`paddock run`) has gone.
fn report(r: Report) {
    let mut out = std::io::stdout().lock();
    if let Ok(line) = serde_json::to_string(&r) {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 0);
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
    }
}

/// Logs to stderr (the holder's log file), filtered by `PADDOCK_LOG` (default `info`).
fn init_logging() {
    use tracing_subscriber::prelude::*;
    let filter: tracing_subscriber::filter::Targets = std::env::var("PADDOCK_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| "info".parse().unwrap_or_default());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_target(false),
        )
        .with(filter)
        .init();
}
