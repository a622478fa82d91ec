//! What the supervisor (`paddock up`) costs while nothing happens, and how fast it finds its
//! sessions again after a `kill -9`.
//!
//! Sessions are holders (`paddock run --no-hooks -- claude 100000`, where `claude` is a copy of
//! /bin/sleep so that it counts as an agent) and panes of one private tmux server running the
//! same copy, 80 % / 20 %. The supervisor runs with a private runtime, data and config
//! directory and a private `TMUX_TMPDIR`, so it sees exactly the sessions started here (and
//! any agent the machine runs outside a terminal Paddock knows, which it lists as external).
//! It starts a bridge (a holder mirroring the pane) for every agent pane it finds; what the
//! bridges cost is reported apart from the supervisor's own figures.
//!
//! 1. Idle cost at 50 sessions, then at 200 (a fresh supervisor each time): once its session
//!    list holds every holder and pane, 5 s to settle, then a window of `--window` seconds.
//!    CPU is utime + stime of the supervisor from `/proc/<pid>/stat`; what the children it
//!    started and reaped (`tmux list-panes`) used is cutime + cstime, reported apart, as is
//!    the CPU the tmux server spent meanwhile (answering those calls). Memory is VmRSS each
//!    second (the maximum is the figure) and VmHWM, the peak since start.
//! 2. Re-adoption, between the two: with 50 holders, `kill -9` the supervisor, start it again
//!    and time from that spawn until its session list has all 50 holders with their agents'
//!    pids; five times. Every holder and agent must stay alive throughout.
//!
//! The pieces: `env` (the private directories), `fleet` (the sessions), `daemon` (the
//! `paddock up` under measurement), `procstat` (reading `/proc`), `idle` and `readopt` (the
//! two measurements).

mod daemon;
mod env;
mod fleet;
mod idle;
mod procstat;
mod readopt;

pub(crate) use daemon::{hello, wait_listed, Supervisor};
pub(crate) use env::Env;
pub(crate) use fleet::Fleet;
pub(crate) use procstat::{status_kib, Memory, ProcStat};

use crate::harness::Harness;
use crate::options::Options;
use crate::report::{Report, Row};
use idle::{add_idle_rows, idle_window};
use readopt::{add_readopt_row, readoption};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::runtime::Runtime;

/// Session counts of the two idle windows.
const SMALL: usize = 50;
const LARGE: usize = 200;
/// Sessions with holders in the re-adoption runs.
const READOPT_HOLDERS: usize = 50;
const RESTARTS: usize = 5;
/// Quiet time between "every session is listed" and the window.
const SETTLE: Duration = Duration::from_secs(5);
/// How long the supervisor may take to list every session it was started with.
const LIST_LIMIT: Duration = Duration::from_secs(60);
/// How long a restarted supervisor may take to list the holders again (the target is 1 s).
const READOPT_LIMIT: Duration = Duration::from_secs(15);
/// Targets: percent of one core, and bytes (MB = 10⁶ bytes).
const TARGET_SMALL: (f64, u64) = (0.5, 64_000_000);
const TARGET_LARGE: (f64, u64) = (2.0, 128_000_000);
const TARGET_READOPT: Duration = Duration::from_secs(1);
/// USER_HZ: the unit of the times in `/proc/<pid>/stat`, 100 on every Linux.
pub(crate) const TICKS_PER_SEC: f64 = 100.0;
/// The tmux server's name (`-L`), also the name the supervisor gives its sessions.
const TMUX_NAME: &str = "pdb";

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    let secs = opts.window.as_secs();
    eprintln!(
        "supervisor: idle windows of {secs} s at {SMALL} and {LARGE} sessions, {RESTARTS} restarts after kill -9"
    );
    let mut fleet = Fleet::default();
    let result = measure(h, rt, opts, &mut fleet, report);
    // Everything started here goes now, so that nothing that runs next shares the machine
    // with 200 holders; the harness would only kill them at the very end.
    fleet.stop(h);
    if let Err((figure, e)) = result {
        report.fail(figure, &e);
    }
}

/// Runs the three parts in turn, adding each one's rows as soon as it is measured; the
/// error names the figure that could not be measured.
fn measure(
    h: &mut Harness,
    rt: &Runtime,
    opts: &Options,
    fleet: &mut Fleet,
    report: &mut Report,
) -> Result<(), (&'static str, anyhow::Error)> {
    let env = Env::new(h, "").map_err(|e| ("Supervisor", e))?;
    let panes = |n: usize| if opts.tmux { n / 5 } else { 0 };
    // The JSON, recorded again after each part so that a later failure keeps what was measured.
    let mut json = serde_json::Map::new();
    json.insert("window_secs".into(), json!(opts.window.as_secs()));
    json.insert("settle_secs".into(), json!(SETTLE.as_secs()));

    let small_fig = "Supervisor idle, 50 sessions";
    fleet
        .grow(h, &env, SMALL - panes(SMALL), panes(SMALL))
        .map_err(|e| (small_fig, e))?;
    let mut sup = Supervisor::spawn(h, &env).map_err(|e| (small_fig, e))?;
    let small = rt
        .block_on(idle_window(&sup, &env, fleet, opts.window))
        .map_err(|e| (small_fig, e))?;
    add_idle_rows(report, &small, TARGET_SMALL);
    json.insert("small".into(), small.json());
    report.record("supervisor", Value::Object(json.clone()));

    let readopt_fig = "Re-adoption after kill -9";
    let extra = READOPT_HOLDERS.saturating_sub(fleet.holders.len());
    fleet
        .grow(h, &env, extra, 0)
        .map_err(|e| (readopt_fig, e))?;
    let readopt = rt
        .block_on(readoption(h, &env, &mut sup, fleet))
        .map_err(|e| (readopt_fig, e))?;
    add_readopt_row(report, &readopt);
    json.insert("readoption".into(), readopt.json());
    report.record("supervisor", Value::Object(json.clone()));
    sup.stop();

    let large_fig = "Supervisor idle, 200 sessions";
    let holders = LARGE - panes(LARGE);
    fleet
        .grow(
            h,
            &env,
            holders.saturating_sub(fleet.holders.len()),
            panes(LARGE).saturating_sub(fleet.panes()),
        )
        .map_err(|e| (large_fig, e))?;
    let sup = Supervisor::spawn(h, &env).map_err(|e| (large_fig, e))?;
    let large = rt
        .block_on(idle_window(&sup, &env, fleet, opts.window))
        .map_err(|e| (large_fig, e))?;
    drop(sup);
    add_idle_rows(report, &large, TARGET_LARGE);

    let added = (large.sessions - small.sessions) as f64;
    let per_session = |a: f64, b: f64| (b - a) / 100.0 * 1e6 / added;
    let own = per_session(small.own_percent(), large.own_percent());
    let total = per_session(small.total_percent(), large.total_percent());
    report.add(
        Row::new(
            "Supervisor monitoring cost per session",
            format!("{own:.1} µs CPU/s"),
        )
        .beside(format!(
            "(own CPU at {} − at {}) / {}; {total:.1} µs/s with its children",
            large.sessions, small.sessions, added
        )),
    );
    json.insert("large".into(), large.json());
    json.insert("per_session_us_per_s".into(), json!(own));
    json.insert("per_session_us_per_s_with_children".into(), json!(total));
    report.record("supervisor", Value::Object(json));
    Ok(())
}
