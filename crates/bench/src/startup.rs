//! What both of `paddock-bench`'s commands (the measurements in `main.rs`, and `soak`) do
//! first: read their options (printing the help, or the error and the usage with exit code
//! 2), then start the harness, a thread that kills whatever the harness started when Ctrl-C,
//! TERM or HUP arrives, and the async runtime.

use crate::harness::Harness;
use crate::options::Options;
use anyhow::Context;
use std::process::ExitCode;
use tokio::runtime::Runtime;

/// The options `parse` read; `Err` with the exit code once the help (0) or the error and
/// `usage` (2) are printed. `who` starts the error line (`paddock-bench soak`).
pub fn options<T>(
    parsed: anyhow::Result<Option<T>>,
    who: &str,
    usage: &str,
) -> Result<T, ExitCode> {
    match parsed {
        Ok(Some(opts)) => Ok(opts),
        Ok(None) => {
            print!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{who}: {e:#}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// The harness for `opts` and the runtime to drive it; on a signal, `who` says so and
/// everything the harness started is killed before the process exits with 130.
pub fn start(opts: &Options, who: &'static str) -> anyhow::Result<(Harness, Runtime)> {
    let h = Harness::new(opts)?;
    // The handler is tokio's (a caught signal, reset to the default in every child at exec),
    // not a blocked mask, which children would inherit: a tmux server with TERM blocked
    // survives kill-server.
    let cleanup = h.cleanup_handle();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(name) = wait_for_signal() {
                eprintln!("{who}: {name}; killing what it started and exiting");
                cleanup.run();
                std::process::exit(130);
            }
        })
        .context("cannot start the signal thread")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok((h, rt))
}

/// Blocks until SIGINT, SIGTERM or SIGHUP arrives; `None` if they cannot be watched.
fn wait_for_signal() -> Option<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let mut int = signal(SignalKind::interrupt()).ok()?;
        let mut term = signal(SignalKind::terminate()).ok()?;
        let mut hup = signal(SignalKind::hangup()).ok()?;
        Some(tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
            _ = hup.recv() => "SIGHUP",
        })
    })
}
