//! Hooks: what an agent's hook costs it, and how soon its state change reaches the
//! supervisor's event bus.
//!
//! A supervisor runs in this process (the `paddock-core` library, as the desktop app runs it)
//! on the harness's runtime directory, with one session (`sleep`) held by a real holder. Then
//! `--hook-events` times: spawn the real `paddock hook --agent claude` with a Claude Code
//! payload on stdin (alternating `UserPromptSubmit` and `Stop`, so every call changes the
//! state), and time (1) from the spawn until the `session_update` with the new state is on the
//! bus and (2) from the spawn until the hook process has exited (what the agent waits for).
//! Beside them, the cost of spawning `/bin/true` the same way: a process's floor here.

use crate::harness::Harness;
use crate::in_process::{DataDir, Watched};
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use anyhow::{bail, Context};
use paddock_proto::agent::AgentState;
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Target: a transition is on the bus within this time of its hook firing (p99).
const TARGET_P99: Duration = Duration::from_millis(100);

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    if let Err(e) = measure(h, rt, opts, report) {
        report.fail("hook → session_update", &e);
    }
}

fn measure(
    h: &mut Harness,
    rt: &Runtime,
    opts: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let data = DataDir::create("hooks")?;
    let session = h.start_session(&[], &["sleep", "100000"])?;
    let paddock = h.paddock().to_owned();
    let n = opts.hook_events;
    let runtime = h.dir().to_owned();
    let result = rt.block_on(async {
        let watched = Watched::start(&runtime, &data, &session.id).await?;
        let mut to_bus = Vec::with_capacity(n);
        let mut process = Vec::with_capacity(n);
        for i in 0..n {
            let (event, want) = if i % 2 == 0 {
                (
                    json!({"hook_event_name": "UserPromptSubmit", "session_id": "bench", "prompt": "go"}),
                    AgentState::Working,
                )
            } else {
                (
                    json!({"hook_event_name": "Stop", "session_id": "bench"}),
                    AgentState::WaitingInput,
                )
            };
            let mut events = watched.subscribe();
            let start = Instant::now();
            let mut child = Command::new(&paddock)
                .args(["hook", "--agent", "claude"])
                .env("PADDOCK_RUNTIME_DIR", watched.handle.runtime_dir().path())
                .env("PADDOCK_SESSION_ID", &session.id)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .context("cannot start `paddock hook`")?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(event.to_string().as_bytes())?;
            }
            watched
                .next_state(&mut events, "the hook", |s| s.status.state == want)
                .await?;
            to_bus.push(start.elapsed());
            let status = tokio::task::spawn_blocking(move || child.wait()).await??;
            if !status.success() {
                bail!("`paddock hook` failed: {status}");
            }
            process.push(start.elapsed());
        }
        watched.stop().await;
        anyhow::Ok((to_bus, process))
    });
    h.stop(&session);
    drop(data);
    let (to_bus, process) = result?;
    let mut floor = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        Command::new("/bin/true").stdin(Stdio::piped()).status()?;
        floor.push(start.elapsed());
    }
    let p = |s: &[Duration], q| micros(percentile(s, q)) / 1000.0;
    let p99 = percentile(&to_bus, 99.0);
    report.add(
        Row::new(
            "hook fired → session_update on the bus, p50 / p99",
            format!("{:.1} / {:.1} ms", p(&to_bus, 50.0), p(&to_bus, 99.0)),
        )
        .beside(format!("{n} hooks, each a real `paddock hook` process"))
        .target("p99 ≤ 100 ms", p99 <= TARGET_P99),
    );
    report.add(
        Row::new(
            "`paddock hook` process time (spawn → exit), p50 / p99",
            format!("{:.1} / {:.1} ms", p(&process, 50.0), p(&process, 99.0)),
        )
        .beside(format!(
            "`/bin/true` spawned the same way: {:.1} / {:.1} ms",
            p(&floor, 50.0),
            p(&floor, 99.0)
        )),
    );
    report.record(
        "hooks",
        json!({
            "events": n,
            "to_bus": latency_summary(&to_bus),
            "hook_process": latency_summary(&process),
            "bin_true": latency_summary(&floor),
        }),
    );
    Ok(())
}
