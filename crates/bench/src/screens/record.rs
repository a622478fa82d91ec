//! `paddock-bench record-screens`: drives the real agents (the pinned Claude Code, Codex and
//! Gemini CLI)
//! in a PTY against the local fake API through the scenarios of [`super::scenarios`], and
//! writes each as a [`Recording`] into the corpus.
//!
//! The PTY's reader is the terminal: it answers the OSC 7501 query at once (so the agent
//! reports its state) and takes the reports out of the stream, as Paddock's holder does;
//! the reports, with their times, are the labels. Claude Code's hooks are recorded too
//! (each payload kept by the sandbox's hook script, timed by the wall clock). Gemini CLI
//! sends no OSC 7501: its hook payloads, kept whole, are its labels.

use super::corpus::Recording;
use super::scenarios::{Agent, Scenario, Step};
use anyhow::{bail, Context};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use paddock_fakeapi::agents::{ClaudeSandbox, CodexSandbox, GeminiSandbox, CLAUDE_HOOK_EVENTS};
use paddock_fakeapi::FakeApi;
use paddock_host::model::ScreenModel;
use paddock_host::osc7501::{self, Found};
use paddock_proto::Size;
use portable_pty::{CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The terminal every recording uses.
pub const SIZE: Size = Size {
    cols: 120,
    rows: 36,
};
/// How long a step waits for what it names before the recording goes on without it.
const STEP_DEADLINE: Duration = Duration::from_secs(30);

/// What the reader thread has seen so far.
struct Live {
    model: ScreenModel,
    output: Vec<(u64, String)>,
    reports: Vec<(u64, Option<paddock_proto::program_status::ProgramStatus>)>,
    /// The end of a read that may be the start of a UTF-8 character.
    partial: Vec<u8>,
}

type Writer = Arc<Mutex<Box<dyn Write + Send>>>;

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// An agent's command as its sandbox runs it: in the sandbox's project, with its
/// environment.
struct Sandboxed {
    cmd: CommandBuilder,
    project: std::path::PathBuf,
}

impl Sandboxed {
    fn new(bin: std::path::PathBuf, project: std::path::PathBuf) -> Self {
        let mut cmd = CommandBuilder::new(bin);
        cmd.cwd(&project);
        Self { cmd, project }
    }

    /// Without the variables the sandbox unsets, with the ones it sets.
    fn env(mut self, unset: &[&str], vars: Vec<(String, String)>) -> Self {
        for k in unset {
            self.cmd.env_remove(k);
        }
        for (k, v) in vars {
            self.cmd.env(k, v);
        }
        self
    }
}

/// Records every scenario of `agents` into `dir`; returns the files written.
pub fn record_all(dir: &Path, agents: &[Agent], only: Option<&str>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for agent in agents {
        for scenario in super::scenarios::of(*agent) {
            if only.is_some_and(|o| o != scenario.name) {
                continue;
            }
            let started = Instant::now();
            eprintln!("record-screens: {} {} ...", agent.name(), scenario.name);
            let rec = record(*agent, scenario)
                .with_context(|| format!("recording {} failed", agent.name()))?;
            let path = rec.write(dir)?;
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "record-screens: wrote {} ({} KB, {} reports, {} hook events) in {:.1}s",
                path.display(),
                size / 1024,
                rec.reports.len(),
                rec.hooks.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

fn record(agent: Agent, scenario: Scenario) -> anyhow::Result<Recording> {
    let fake = FakeApi::start(scenario.script).context("cannot start the fake API")?;
    // The sandbox whose `hooks/` folder holds the hook payloads, kept until the end.
    let (started, version, hooks_dir, _sandbox): (_, _, _, Box<dyn std::any::Any>) = match agent {
        Agent::Claude => {
            let sb = ClaudeSandbox::new(&fake.url())?;
            let mut started = Sandboxed::new(paddock_fakeapi::agents::claude_bin()?, sb.project());
            started.cmd.arg("--settings");
            started.cmd.arg(hook_settings(&sb));
            (
                started.env(sb.unset(), sb.env()),
                paddock_fakeapi::agents::claude_code_version(),
                Some(sb.root().join("hooks")),
                Box::new(sb),
            )
        }
        Agent::Codex => {
            let sb = CodexSandbox::new(&fake.url())?;
            let started = Sandboxed::new(paddock_fakeapi::agents::codex_bin()?, sb.project());
            (
                started.env(sb.unset(), sb.env()),
                paddock_fakeapi::agents::codex_version(),
                None,
                Box::new(sb),
            )
        }
        Agent::Gemini => {
            let sb = GeminiSandbox::new(&fake.url())?;
            let started = Sandboxed::new(paddock_fakeapi::agents::gemini_bin()?, sb.project());
            (
                started.env(&sb.unset(), sb.env()),
                paddock_fakeapi::agents::gemini_cli_version(),
                Some(sb.root().join("hooks")),
                Box::new(sb),
            )
        }
    };
    (scenario.setup)(&started.project)?;
    let mut cmd = started.cmd;
    cmd.args(&scenario.args);
    cmd.env("TERM", "xterm-256color");
    let pair = portable_pty::native_pty_system()
        .openpty(PtySize {
            rows: SIZE.rows,
            cols: SIZE.cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| anyhow::anyhow!("cannot open a PTY: {e}"))?;
    let wall_start = SystemTime::now();
    let start = Instant::now();
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", agent.name()))?;
    drop(pair.slave);
    let group = child
        .process_id()
        .and_then(|p| i32::try_from(p).ok())
        .map(Pid::from_raw);
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let writer: Writer = Arc::new(Mutex::new(
        pair.master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    ));
    let live = Arc::new(Mutex::new(Live {
        model: ScreenModel::new(SIZE),
        output: Vec::new(),
        reports: Vec::new(),
        partial: Vec::new(),
    }));
    let reader_thread = {
        let live = live.clone();
        let writer = writer.clone();
        std::thread::spawn(move || {
            let mut scanner = osc7501::Scanner::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let t = ms(start);
                let mut found = Vec::new();
                let clean = scanner.feed(&buf[..n], &mut found).into_owned();
                for f in found {
                    match f {
                        Found::Query(term) => {
                            if let Ok(mut w) = writer.lock() {
                                let _ = w.write_all(osc7501::reply(term));
                                let _ = w.flush();
                            }
                        }
                        Found::Report(mut s) if s.id.is_none() => {
                            s.at = String::new();
                            if let Ok(mut l) = live.lock() {
                                l.reports.push((t, Some(s)));
                            }
                        }
                        Found::Clear { id: None } => {
                            if let Ok(mut l) = live.lock() {
                                l.reports.push((t, None));
                            }
                        }
                        _ => {}
                    }
                }
                let Ok(mut l) = live.lock() else { break };
                l.partial.extend_from_slice(&clean);
                let bytes = std::mem::take(&mut l.partial);
                let text = match std::str::from_utf8(&bytes) {
                    Ok(s) => s.to_owned(),
                    Err(e) if e.error_len().is_none() => {
                        // An unfinished character: keep its start for the next read.
                        l.partial = bytes[e.valid_up_to()..].to_vec();
                        String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
                    }
                    Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
                };
                if !text.is_empty() {
                    l.model.feed(text.as_bytes());
                    l.output.push((t, text));
                }
            }
        })
    };
    let mut input = Vec::new();
    let send = |bytes: &[u8]| -> anyhow::Result<()> {
        let mut w = writer
            .lock()
            .map_err(|_| anyhow::anyhow!("the PTY writer is gone"))?;
        w.write_all(bytes)?;
        w.flush()?;
        Ok(())
    };
    let mut steps = scenario.steps;
    steps.extend(agent.exit_steps());
    let mut exited = None;
    for step in steps {
        match step {
            Step::Screen(text) => {
                if !wait(|| {
                    live.lock()
                        .is_ok_and(|l| l.model.text().rows.iter().any(|r| r.contains(text)))
                }) {
                    eprintln!("record-screens: the screen never showed {text:?}; going on");
                }
            }
            Step::Report(states) => {
                let seen = live.lock().map(|l| l.reports.len()).unwrap_or(0);
                if !wait(|| {
                    live.lock().is_ok_and(|l| {
                        l.reports[seen.min(l.reports.len())..].iter().any(|(_, r)| {
                            r.as_ref()
                                .is_some_and(|r| states.split('|').any(|s| s == r.state.as_str()))
                        })
                    })
                }) {
                    eprintln!("record-screens: no {states} report came; going on");
                }
            }
            Step::Pause(ms_) => std::thread::sleep(Duration::from_millis(ms_)),
            Step::Type(text) => {
                input.push((ms(start), format!("type {text:?}")));
                // A few characters at a time, as typing arrives (one big write is a paste).
                for chunk in text.as_bytes().chunks(3) {
                    send(chunk)?;
                    std::thread::sleep(Duration::from_millis(12));
                }
            }
            Step::Key(label, bytes) => {
                input.push((ms(start), label.to_owned()));
                send(bytes)?;
            }
            Step::Exit => {
                let deadline = Instant::now() + Duration::from_secs(15);
                while Instant::now() < deadline {
                    if child.try_wait()?.is_some() {
                        exited = Some(ms(start));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
    if exited.is_none() {
        eprintln!("record-screens: {} did not exit; killing it", agent.name());
    }
    if let Some(g) = group {
        let _ = killpg(g, Signal::SIGKILL);
    }
    let _ = child.wait();
    drop(pair.master);
    let end = ms(start);
    let _ = reader_thread.join();
    let payloads = hooks_dir
        .as_deref()
        .map(|d| hook_payloads(d, wall_start))
        .unwrap_or_default();
    let hooks = payloads
        .iter()
        .filter_map(|(t, p)| {
            let event = p["hook_event_name"].as_str()?;
            Some(match p["tool_name"].as_str() {
                Some(tool) => (*t, format!("{event}:{tool}")),
                None => (*t, event.to_owned()),
            })
        })
        .collect();
    // Gemini CLI's hooks are its labels (it sends no OSC 7501).
    let hook_payloads = if agent == Agent::Gemini {
        payloads
    } else {
        Vec::new()
    };
    let l = live
        .lock()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    if l.reports.is_empty() && hook_payloads.is_empty() {
        bail!(
            "{} sent no OSC 7501 report and no labelling hook ran: without them nothing labels the recording",
            agent.name()
        );
    }
    Ok(Recording {
        agent: agent.name().to_owned(),
        version: version.to_owned(),
        scenario: scenario.name.to_owned(),
        cols: SIZE.cols,
        rows: SIZE.rows,
        output: l.output.clone(),
        reports: l.reports.clone(),
        hooks,
        hook_payloads,
        input,
        exited,
        end,
    })
}

/// Waits up to [`STEP_DEADLINE`] for `cond`.
fn wait(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + STEP_DEADLINE;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// `--settings` hooking every event to the sandbox's recorder, the PermissionRequest hook
/// included (it only records, so the prompt is left to the terminal).
fn hook_settings(sb: &ClaudeSandbox) -> String {
    let record = sb.root().join("bin/record-hook").display().to_string();
    let mut hooks = serde_json::Map::new();
    for event in CLAUDE_HOOK_EVENTS {
        hooks.insert(
            (*event).to_owned(),
            serde_json::json!([{"matcher": "*", "hooks": [{"type": "command", "command": record}]}]),
        );
    }
    serde_json::json!({ "hooks": hooks }).to_string()
}

/// The hook payloads a sandbox kept in `dir`, timed from the recording's start (their files
/// are named by the wall clock in nanoseconds).
fn hook_payloads(dir: &Path, wall_start: SystemTime) -> Vec<(u64, serde_json::Value)> {
    let start_ns = wall_start
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, serde_json::Value)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ns: u128 = name.split('-').next()?.parse().ok()?;
            let payload: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            Some(((ns.saturating_sub(start_ns) / 1_000_000) as u64, payload))
        })
        .collect();
    out.sort_by_key(|(t, _)| *t);
    out
}
