//! OSC 7501: how soon a program's own status report (the Program Status Protocol, written to
//! its terminal) reaches the supervisor's event bus as the session's new state, which is
//! where the UI's WebSocket and the REST long-poll (`wait_for`) read it.
//!
//! A supervisor runs in this process (`in_process.rs`, as in `hooks.rs`) on the harness's runtime directory,
//! with one session held by a real holder: a bash loop that, for each line typed into it,
//! takes the time (`$EPOCHREALTIME`, no process spawned), writes
//! `ESC ] 7501 ; state=<line>:app=bench BEL` to its terminal, and then appends that time to a
//! file. The bench types `working` and `done` in turn, so every report changes the state
//! (working, then waiting_input), and times each from the program's write (the time in the
//! file) to the `session_update` with the new state on the bus (the wall clock, read when it
//! arrives). Both clocks are this machine's `CLOCK_REALTIME`.

use crate::harness::Harness;
use crate::in_process::{DataDir, Watched, EVENT_LIMIT};
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use anyhow::{bail, Context};
use paddock_proto::agent::{AgentState, StateSource};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::runtime::Runtime;

/// Target: a report's state is on the bus within this time of the program's write (p99).
const TARGET_P99: Duration = Duration::from_millis(100);

/// The program in the session: one report per line typed, its write time after it.
const PROGRAM: &str = r#"stty -echo
while IFS= read -r s; do
  t=$EPOCHREALTIME
  printf '\033]7501;state=%s:app=bench\007' "$s"
  printf '%s\n' "$t" >> "$1"
done"#;

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    if let Err(e) = measure(h, rt, opts, report) {
        report.fail("OSC 7501 report → session_update", &e);
    }
}

fn measure(
    h: &mut Harness,
    rt: &Runtime,
    opts: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let data = DataDir::create("osc")?;
    let times = data.path().join("writes");
    let times_arg = times.to_string_lossy().into_owned();
    let session = h.start_session(
        &[],
        &[
            "bash",
            "--norc",
            "--noprofile",
            "-c",
            PROGRAM,
            "osc-bench",
            &times_arg,
        ],
    )?;
    let n = opts.osc_reports;
    let runtime = h.dir().to_owned();
    let result = rt.block_on(async {
        let watched = Watched::start(&runtime, &data, &session.id).await?;
        let mut seen = Vec::with_capacity(n);
        for i in 0..n {
            let (line, want) = if i % 2 == 0 {
                ("working", AgentState::Working)
            } else {
                ("done", AgentState::WaitingInput)
            };
            let mut events = watched.subscribe();
            watched
                .handle
                .send_input(&watched.id, format!("{line}\r").as_bytes())
                .await
                .context("cannot type into the bench session")?;
            watched
                .next_state(&mut events, "the report", |s| {
                    s.status.state == want
                        && s.status.sources.first() == Some(&StateSource::Program)
                })
                .await?;
            let at = SystemTime::now();
            let wrote = write_time(&times, i).await?;
            seen.push(at.duration_since(wrote).unwrap_or_default());
        }
        watched.stop().await;
        anyhow::Ok(seen)
    });
    h.stop(&session);
    drop(data);
    let seen = result?;
    let p = |s: &[Duration], q| micros(percentile(s, q)) / 1000.0;
    let p99 = percentile(&seen, 99.0);
    report.add(
        Row::new(
            "OSC 7501 report written → session_update on the bus, p50 / p99",
            format!("{:.1} / {:.1} ms", p(&seen, 50.0), p(&seen, 99.0)),
        )
        .beside(format!(
            "{n} reports toggling working / done from a program in a held session; the hooks' row is the reference"
        ))
        .target("p99 ≤ 100 ms", p99 <= TARGET_P99),
    );
    report.record(
        "osc",
        json!({ "reports": n, "to_bus": latency_summary(&seen) }),
    );
    Ok(())
}

/// When the program wrote report `i` (0-based): line `i` of its file, which it appends
/// right after the write.
async fn write_time(file: &Path, i: usize) -> anyhow::Result<SystemTime> {
    let deadline = Instant::now() + EVENT_LIMIT;
    loop {
        let text = tokio::fs::read_to_string(file).await.unwrap_or_default();
        if let Some(line) = text.lines().nth(i) {
            let secs: f64 = line
                .trim()
                .replace(',', ".")
                .parse()
                .with_context(|| format!("the program wrote {line:?} as its time"))?;
            return Ok(UNIX_EPOCH + Duration::from_secs_f64(secs));
        }
        if Instant::now() > deadline {
            bail!("the program did not record the time of report {i}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
