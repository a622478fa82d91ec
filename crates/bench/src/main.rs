//! `paddock-bench`: measures the session holder on this machine, in one run, beside a bare
//! PTY and beside tmux, and the supervisor (`paddock up`) idle and after a `kill -9`, and
//! prints a markdown table (and, with `--json PATH`, the same figures as JSON).
//!
//! Run it with `cargo run --release -p paddock-bench`; see `crates/bench/README.md` for what
//! each figure means. Every holder it starts lives in a private runtime directory under /tmp
//! that is removed, holders and agents killed, when the run ends, fails or is interrupted.
#![forbid(unsafe_code)]

mod attach;
mod client;
mod conversation;
mod endpoint;
mod follower;
mod haltpoll;
mod harness;
mod hooks;
mod idle;
mod in_process;
mod latency;
mod lossless;
mod mcp;
mod notify;
mod notify_cost;
mod options;
mod osc;
mod procfs;
mod report;
// screens: begin
mod screens;
// screens: end
mod soak;
mod startup;
mod supervisor;
mod throughput;
mod tmux;
mod transcripts;

use anyhow::Context;
use options::Options;
use report::Report;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The child of the transcript measurement: `__index-transcripts ROOT DB`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    // soak: begin
    match args.first().map(String::as_str) {
        Some(soak::COMMAND) => return soak::main(args[1..].to_vec()),
        Some(soak::HALF_FRAME) => return soak::half_frame_child(&args[1..]),
        _ => {}
    }
    // soak: end
    // screens: begin
    if args.first().map(String::as_str) == Some(screens::RECORD) {
        return screens::record_main(&args[1..]);
    }
    // screens: end
    if args.first().map(String::as_str) == Some(transcripts::CHILD) {
        let (Some(root), Some(db)) = (args.get(1), args.get(2)) else {
            eprintln!("paddock-bench: {} needs ROOT and DB", transcripts::CHILD);
            return ExitCode::from(2);
        };
        return match transcripts::child(root.as_ref(), db.as_ref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("paddock-bench: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let opts = match startup::options(
        Options::parse(std::env::args().skip(1)),
        "paddock-bench",
        options::USAGE,
    ) {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    match run(&opts) {
        Ok(report) if report.failures() == 0 => ExitCode::SUCCESS,
        Ok(report) => {
            eprintln!(
                "paddock-bench: {} measurement(s) failed; see the table",
                report.failures()
            );
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
    let (mut h, rt) = startup::start(opts, "paddock-bench")?;

    let mut report = Report::new(opts, &h);
    eprintln!(
        "paddock-bench: holder {}, runtime dir {}",
        h.paddock().display(),
        h.dir().display()
    );
    if opts.wants("throughput") {
        throughput::run(&mut h, opts, &mut report);
    }
    if opts.wants("latency") {
        latency::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("idle") {
        idle::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("attach") {
        attach::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("supervisor") {
        supervisor::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("hooks") {
        hooks::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("transcripts") {
        transcripts::run(opts, &mut report);
    }
    if opts.wants("endpoint") {
        endpoint::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("lossless") {
        lossless::run(&mut h, opts, &mut report);
    }
    if opts.wants("conversation") {
        conversation::run(&mut h, &rt, &mut report);
    }
    if opts.wants("client") {
        client::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("notify") {
        notify::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("notify-cost") {
        notify_cost::run(&mut h, &rt, &mut report);
    }
    if opts.wants("mcp") {
        mcp::run(&mut h, &rt, opts, &mut report);
    }
    if opts.wants("osc") {
        osc::run(&mut h, &rt, opts, &mut report);
    }
    // screens: begin
    if opts.wants("screens") {
        screens::run(&mut report);
    }
    // screens: end
    report.finish();

    let table = report.markdown();
    println!("{table}");
    if let Some(path) = &opts.json {
        let json = serde_json::to_string_pretty(&report.to_json())?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(report)
}
