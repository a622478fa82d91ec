//! `paddock-bench`: measures the session holder on this machine, in one run, beside a bare
//! PTY and beside tmux, and prints a markdown table (and, with `--json PATH`, the same
//! figures as JSON).
//!
//! Run it with `cargo run --release -p paddock-bench`; see `crates/bench/README.md` for what
//! each figure means. Every holder it starts lives in a private runtime directory under /tmp
//! that is removed, holders and agents killed, when the run ends, fails or is interrupted.
#![forbid(unsafe_code)]

mod attach;
mod follower;
mod harness;
mod idle;
mod latency;
mod options;
mod report;
mod throughput;
mod tmux;

use anyhow::Context;
use harness::Harness;
use nix::sys::signal::{SigSet, Signal};
use options::Options;
use report::Report;
use std::process::ExitCode;

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{}", options::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("paddock-bench: {e:#}\n\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(report) if report.failures() == 0 => ExitCode::SUCCESS,
        Ok(report) => {
            eprintln!("paddock-bench: {} measurement(s) failed; see the table", report.failures());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("paddock-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every measurement, each recording its figures (or its failure) in the report.
fn run(opts: &Options) -> anyhow::Result<Report> {
    // Signals go to one thread that cleans up, so Ctrl-C leaves no holder behind. Blocked
    // before any other thread starts, so every thread inherits the mask; children get an
    // empty mask from std and portable-pty.
    let mut signals = SigSet::empty();
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(sig);
    }
    signals.thread_block().context("cannot block signals")?;

    let mut h = Harness::new(opts)?;
    let cleanup = h.cleanup_handle();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Ok(sig) = signals.wait() {
                eprintln!("paddock-bench: {sig}; killing the holders it started and exiting");
                cleanup.run();
                std::process::exit(128 + sig as i32);
            }
        })
        .context("cannot start the signal thread")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let mut report = Report::new(opts, &h);
    eprintln!(
        "paddock-bench: holder {}, runtime dir {}",
        h.paddock().display(),
        h.dir().display()
    );
    throughput::run(&mut h, opts, &mut report);
    latency::run(&mut h, &rt, opts, &mut report);
    idle::run(&mut h, &rt, opts, &mut report);
    attach::run(&mut h, &rt, opts, &mut report);

    let table = report.markdown();
    println!("{table}");
    if let Some(path) = &opts.json {
        let json = serde_json::to_string_pretty(&report.to_json())?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report)
}
