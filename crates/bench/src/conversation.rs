//! A long session's conversation, served and shown: a generated 5,000-turn Claude Code
//! transcript followed by a real `paddock up`; the first page of turns over HTTPS for fresh
//! sessions (the first request, which reads the newest turns from the file's end) beside the
//! whole file read and parsed in-process (the reference: what the first request did before),
//! then warm; painted in Chromium at the phone viewport (390×844, touch), on fresh sessions
//! and again; and a line appended to the transcript until it is on the open view. The
//! browser half is `ui/scripts/bench-conversation.mjs` (playwright-core driving Debian's
//! Chromium), which prints its figures as JSON.

use crate::endpoint::{call, Endpoint};
use crate::harness::Harness;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use anyhow::{bail, Context};
use paddock_agents::{AgentKind, ConversationReader, Prices};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Turns in the generated session.
pub const TURNS: usize = 5_000;
const SERVE_TARGET: Duration = Duration::from_millis(50);
const PAINT_TARGET_MS: f64 = 300.0;
const LIVE_TARGET_MS: f64 = 300.0;
/// Warm requests of the first page.
const WARM: usize = 50;
/// Fresh sessions whose first page is asked for over HTTPS, and opened in the browser.
const COLD: usize = 7;
const COLD_PAINTS: usize = 3;
/// Whole-file reads timed for the reference.
const WHOLE: usize = 3;
/// Turns in a first page.
const LIMIT: usize = 30;

pub fn run(h: &mut Harness, rt: &Runtime, report: &mut Report) {
    if let Err(e) = measure(h, rt, report) {
        report.fail("Conversation of a 5,000-turn session", &e);
    }
}

/// One turn as Claude Code writes it: the prompt, an answer with a tool call, its result (a
/// few hundred bytes), and a closing answer in markdown.
fn write_turn(out: &mut impl Write, n: usize) -> std::io::Result<()> {
    let ts = "2026-12-06T10:00:00.000Z";
    let lines = [
        json!({"type": "user", "timestamp": ts, "message": {"role": "user", "content": format!("Step {n}: make the tests pass for module {n}")}}),
        json!({"type": "assistant", "timestamp": ts, "requestId": format!("r{n}"), "message": {"id": format!("m{n}"), "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 1200, "output_tokens": 80, "cache_read_input_tokens": 30000},
            "content": [{"type": "text", "text": format!("I will run the tests of module {n} first.")},
                        {"type": "tool_use", "id": format!("t{n}"), "name": "Bash", "input": {"command": format!("cargo test -p module{n}")}}]}}),
        json!({"type": "user", "timestamp": ts, "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("t{n}"),
            "content": "running 12 tests\n".to_owned() + &"test tests::case ... ok\n".repeat(12) + "\ntest result: ok. 12 passed; 0 failed"}]}}),
        json!({"type": "assistant", "timestamp": ts, "requestId": format!("r{n}b"), "message": {"id": format!("m{n}b"), "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 1300, "output_tokens": 60},
            "content": [{"type": "text", "text": format!("All **12 tests** of `module{n}` pass:\n\n- the parser\n- the writer\n\n```sh\ncargo test -p module{n}\n```")}]}}),
    ];
    for l in lines {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// Written where Claude Code keeps transcripts (`$CLAUDE_CONFIG_DIR/projects/<project>/`):
/// the supervisor follows transcripts only there.
fn transcript(dir: &Path) -> anyhow::Result<PathBuf> {
    let project = dir.join("claude/projects/-bench");
    std::fs::create_dir_all(&project)
        .with_context(|| format!("cannot make {}", project.display()))?;
    let path = project.join("conversation-5000.jsonl");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for n in 0..TURNS {
        write_turn(&mut out, n)?;
    }
    out.flush()?;
    Ok(path)
}

/// A `sleep` session whose transcript is `path`, as Claude Code's hooks name it; returns
/// once the supervisor has read the file's insight (as it does for any session it follows),
/// so that only the conversation is cold.
fn follow(h: &mut Harness, ep: &Endpoint, rt: &Runtime, path: &Path) -> anyhow::Result<String> {
    let session = h.start_session(&[], &["sleep", "100000"])?;
    rt.block_on(ep.known(&session.id))?;
    let mut hook = ep
        .command(&["hook", "--agent", "claude"])
        .env("PADDOCK_SESSION_ID", &session.id)
        .env(
            "CLAUDE_CONFIG_DIR",
            path.ancestors()
                .nth(3)
                .context("the transcript's Claude folder")?,
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot run paddock hook")?;
    let payload = json!({"hook_event_name": "UserPromptSubmit", "session_id": "bench",
        "transcript_path": path.display().to_string(), "cwd": "/", "prompt": "bench"});
    hook.stdin
        .take()
        .context("no stdin")?
        .write_all(payload.to_string().as_bytes())?;
    if !hook.wait()?.success() {
        bail!("paddock hook failed");
    }
    let url = format!("/api/v1/sessions/{}/insight", session.id);
    rt.block_on(async {
        let mut s = ep.http().await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match call(&mut s, &ep.addr, "GET", &url, &ep.token, None).await {
                Ok(_) => return anyhow::Ok(()),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                Err(e) => return Err(e.context("the supervisor never read the transcript")),
            }
        }
    })?;
    Ok(session.id)
}

/// The whole file read and parsed into turns, and its first page served: the way the first
/// request went before it read from the file's end.
fn whole_read(path: &Path) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let mut r = ConversationReader::open_whole(&AgentKind::Claude, path)?;
    r.poll()?;
    let page = r.page(&Prices::default(), None, LIMIT)?;
    let took = t.elapsed();
    if page.total != Some(TURNS as u64) {
        bail!("the whole read found {:?} turns, not {TURNS}", page.total);
    }
    Ok(took)
}

fn measure(h: &mut Harness, rt: &Runtime, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("conversation: generating a {TURNS}-turn transcript, starting paddock up");
    let path = transcript(h.dir())?;
    let size = std::fs::metadata(&path)?.len();
    let mut whole = Vec::with_capacity(WHOLE);
    for _ in 0..WHOLE {
        whole.push(whole_read(&path)?);
    }
    let ep = Endpoint::start(h)?;
    // Fresh sessions, each following its own copy (the supervisor follows a file once).
    eprintln!("conversation: {} fresh sessions", COLD + COLD_PAINTS);
    let mut fresh = Vec::new();
    for i in 0..COLD + COLD_PAINTS {
        let copy = h.dir().join(format!("conversation-5000-{i}.jsonl"));
        std::fs::copy(&path, &copy)?;
        fresh.push((follow(h, &ep, rt, &copy)?, copy));
    }
    let newest = format!("Step {}:", TURNS - 1);
    let first_page = |page: &Value| -> anyhow::Result<()> {
        let turns = page["turns"].as_array().map_or(&[][..], Vec::as_slice);
        let last = turns
            .last()
            .and_then(|t| t["prompt"].as_str())
            .unwrap_or("");
        if turns.len() != LIMIT || !last.starts_with(&newest) {
            bail!(
                "the first page is not the newest {LIMIT} turns: {} turns, the last `{last}`",
                turns.len()
            );
        }
        Ok(())
    };
    let (cold, warm) = rt.block_on(async {
        let mut s = ep.http().await?;
        let mut cold = Vec::with_capacity(COLD);
        for (id, _) in &fresh[..COLD] {
            let url = format!("/api/v1/sessions/{id}/conversation?limit={LIMIT}");
            let t = Instant::now();
            let page = call(&mut s, &ep.addr, "GET", &url, &ep.token, None).await?;
            cold.push(t.elapsed());
            first_page(&page)?;
        }
        let url = format!("/api/v1/sessions/{}/conversation?limit={LIMIT}", fresh[0].0);
        let mut warm = Vec::with_capacity(WARM);
        for _ in 0..WARM {
            let t = Instant::now();
            let page = call(&mut s, &ep.addr, "GET", &url, &ep.token, None).await?;
            warm.push(t.elapsed());
            first_page(&page)?;
        }
        anyhow::Ok((cold, warm))
    })?;
    let ms = |d: Duration| micros(d) / 1e3;
    let worst_cold = cold.iter().max().copied().unwrap_or_default();
    report.add(
        Row::new(
            "Conversation: first page (30 turns) of a fresh 5,000-turn session served, p50 / p95 / worst",
            format!(
                "{:.1} / {:.1} / {:.1} ms",
                ms(percentile(&cold, 50.0)),
                ms(percentile(&cold, 95.0)),
                ms(worst_cold)
            ),
        )
        .beside(format!(
            "{COLD} fresh sessions, the first request of each (read from the file's end); the whole {:.1} MB file read and parsed, as before: median {:.0} ms of {WHOLE}",
            size as f64 / 1e6,
            ms(percentile(&whole, 50.0))
        ))
        .target("≤ 50 ms", worst_cold <= SERVE_TARGET),
    );
    let p95 = percentile(&warm, 95.0);
    report.add(
        Row::new(
            "Conversation: first page (30 turns) served again, p50 / p95",
            format!("{:.1} / {:.1} ms", ms(percentile(&warm, 50.0)), ms(p95)),
        )
        .beside(format!("{WARM} requests after the first, one session"))
        .target("≤ 50 ms", p95 <= SERVE_TARGET),
    );
    let mut json = serde_json::Map::new();
    json.insert("served_cold".into(), latency_summary(&cold));
    json.insert("served".into(), latency_summary(&warm));
    json.insert("whole_read".into(), latency_summary(&whole));

    eprintln!("conversation: painting it in Chromium at 390x844, and a live line");
    let cold_ids: Vec<&str> = fresh[COLD..].iter().map(|(id, _)| id.as_str()).collect();
    let browser = browser(&ep, &fresh[0].0, &fresh[0].1, &cold_ids)?;
    let paint = samples(&browser, "paint_ms")?;
    let cold_paint = samples(&browser, "cold_paint_ms")?;
    let live = samples(&browser, "live_ms")?;
    let median = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(f64::NAN);
    let worst = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
    report.add(
        Row::new(
            "Conversation: a fresh session opened at 390×844 in Chromium, first page painted, median / worst",
            format!("{:.0} / {:.0} ms", median(&cold_paint), worst(&cold_paint)),
        )
        .beside(format!(
            "{} fresh sessions, each opened, then from the tap on its Chat tab to its newest turn painted (the first request, render, two frames)",
            cold_paint.len()
        ))
        .target("≤ 300 ms", worst(&cold_paint) <= PAINT_TARGET_MS),
    );
    report.add(
        Row::new(
            "Conversation: first page painted again at 390×844 in Chromium, median / worst",
            format!("{:.0} / {:.0} ms", median(&paint), worst(&paint)),
        )
        .beside(format!(
            "{} openings of the Chat tab: from the tap to the turns painted (fetch, render, two frames)",
            paint.len()
        ))
        .target("≤ 300 ms", worst(&paint) <= PAINT_TARGET_MS),
    );
    report.add(
        Row::new(
            "Conversation: a line appended to the transcript, on the open view, median / worst",
            format!("{:.0} / {:.0} ms", median(&live), worst(&live)),
        )
        .beside(format!(
            "{} lines; the supervisor checks the file every 100 ms",
            live.len()
        ))
        .target("≤ 300 ms", worst(&live) <= LIVE_TARGET_MS),
    );
    json.insert("browser".into(), browser);
    report.record("conversation", Value::Object(json));
    Ok(())
}

/// The figures of `key` in the browser's answer, sorted.
fn samples(v: &Value, key: &str) -> anyhow::Result<Vec<f64>> {
    let mut out: Vec<f64> = v[key]
        .as_array()
        .with_context(|| format!("the browser script gave no {key}: {v}"))?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// Runs `ui/scripts/bench-conversation.mjs` with a fresh pairing offer; its JSON answer.
fn browser(
    ep: &Endpoint,
    session: &str,
    transcript: &Path,
    cold: &[&str],
) -> anyhow::Result<Value> {
    let out = ep
        .command(&["pair", "--json", "--role", "operator"])
        .output()?;
    let offer: Value = serde_json::from_slice(&out.stdout).context("paddock pair --json")?;
    let pair_url = offer["pair_url"]
        .as_str()
        .context("the pairing offer has no pair_url")?;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/scripts/bench-conversation.mjs");
    let out = Command::new("node")
        .arg(&script)
        .args([pair_url, session])
        .arg(transcript)
        .args(cold)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run node (the browser half needs Node.js, ui/node_modules and /usr/bin/chromium)")?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    serde_json::from_slice(&out.stdout).context("the browser script's answer is not JSON")
}
