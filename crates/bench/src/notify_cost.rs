//! The notifier's cost: a supervisor watching 50 sessions whose agents change state ten
//! times a second, with the notifier's rules on and with `[notify] enabled = false`.
//!
//! 50 holders run `claude` (a copy of `sleep`, as in the supervisor bench: every session
//! counts as a Claude Code session). A real `paddock up` (its own data and config directories,
//! the desktop channel off) adopts them; then the bench hands it, over its socket and exactly
//! as `paddock hook` does, one Claude Code hook per session every 100 ms, alternating
//! `UserPromptSubmit` (working) and `Stop` (waiting for input): 500 state changes a second,
//! each one an event the notifier's rules look at. After 3 s of that, a 15 s window: CPU
//! seconds per second of the supervisor (utime + stime from `/proc/<pid>/stat`), its VmRSS
//! every second (the largest kept) and VmHWM. Six windows, each with a fresh supervisor, in
//! the order on, off, flood, flood, off, on (see [`Mode`]) so that all share the machine's
//! drift; each figure is the mean of its two windows. The sessions must all be in the last
//! hook's state at the end.
//!
//! `[notify] enabled = false` does not stop the notifier's task: it still runs the rules and
//! records each notification as skipped; what it turns off is the channels. No channel has
//! a subscriber here (the desktop channel is off, Web Push has no device), so "on" against
//! "off" is the channels' share, and "flood" is what making a notification costs.

use crate::harness::Harness;
use crate::report::{load_average, Report, Row};
use crate::supervisor::{
    hello, wait_listed, Env, Fleet, Memory, ProcStat, Supervisor, TICKS_PER_SEC,
};
use anyhow::{bail, Context};
use paddock_host::client::Requester;
use paddock_proto::agent::{AgentState, HookCall};
use paddock_proto::{Request, Response, SessionId};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::time::MissedTickBehavior;

const SESSIONS: usize = 50;
/// State changes per session per second.
const HZ: u64 = 10;
const SETTLE: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(15);
const LIST_LIMIT: Duration = Duration::from_secs(60);
/// The notifier's settings, window by window.
const ORDER: [Mode; 6] = [
    Mode::On,
    Mode::Off,
    Mode::Flood,
    Mode::Flood,
    Mode::Off,
    Mode::On,
];

/// How the notifier is set up for a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The defaults: the `waiting_input` rule notifies a session at most once in 2 min.
    On,
    /// `[notify] enabled = false`: the reference.
    Off,
    /// `cooldown = "0s"`: every `Stop` makes a notification (250 a second).
    Flood,
}

impl Mode {
    fn config(self) -> &'static str {
        match self {
            Mode::On => "[notify]\nenabled = true\n",
            Mode::Off => "[notify]\nenabled = false\n",
            Mode::Flood => "[notify]\nenabled = true\ncooldown = \"0s\"\n",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::Off => "off",
            Mode::Flood => "flood",
        }
    }
}

pub fn run(h: &mut Harness, rt: &Runtime, report: &mut Report) {
    if let Err(e) = measure(h, rt, report) {
        report.fail("notifier cost, 50 sessions at 10 Hz", &e);
    }
}

/// One window's readings.
struct Window {
    mode: Mode,
    /// CPU seconds of the supervisor per second of the window.
    cpu: f64,
    /// Largest VmRSS sampled, KiB.
    rss: u64,
    /// VmHWM at the end, KiB.
    hwm: u64,
    /// Hook events handed over per second.
    rate: f64,
}

fn measure(h: &mut Harness, rt: &Runtime, report: &mut Report) -> anyhow::Result<()> {
    let env = Env::new(h, "notify-cost-")?;
    let mut fleet = Fleet::default();
    let load_before = load_average();
    let result = (|| {
        fleet.grow(h, &env, SESSIONS, 0)?;
        let holders = fleet.holder_pids();
        ORDER
            .iter()
            .map(|&mode| window(h, rt, &env, &holders, mode))
            .collect::<anyhow::Result<Vec<_>>>()
    })();
    fleet.stop(h);
    let windows = result?;
    let mean = |mode: Mode, f: fn(&Window) -> f64| {
        let picked: Vec<f64> = windows.iter().filter(|w| w.mode == mode).map(f).collect();
        picked.iter().sum::<f64>() / picked.len().max(1) as f64
    };
    let max = |mode: Mode, f: fn(&Window) -> u64| {
        windows
            .iter()
            .filter(|w| w.mode == mode)
            .map(f)
            .max()
            .unwrap_or(0)
    };
    let cpu = |mode| mean(mode, |w| w.cpu);
    let rate = ORDER
        .iter()
        .map(|&m| mean(m, |w| w.rate))
        .fold(f64::INFINITY, f64::min);
    let mb = |kib: u64| kib as f64 * 1024.0 / 1e6;
    let load = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.1}"));
    let (on, off, flood) = (cpu(Mode::On), cpu(Mode::Off), cpu(Mode::Flood));
    report.add(
        Row::new(
            "Notifier on, 50 sessions changing state at 10 Hz: supervisor CPU",
            format!("{on:.4} CPU-s/s ({:.2} % of a core)", on * 100.0),
        )
        .beside(format!(
            "`[notify] enabled = false`: {off:.4} CPU-s/s ({:.2} %), so the notifier adds {:+.2} % of a core; with `cooldown = \"0s\"` (every `Stop` notifies): {flood:.4} CPU-s/s ({:+.2} %); means of 2 × {} s windows each, in the order {}; at least {rate:.0} hook events/s handed over; load average {} → {}",
            off * 100.0,
            (on - off) * 100.0,
            (flood - off) * 100.0,
            WINDOW.as_secs(),
            ORDER.map(Mode::name).join(", "),
            load(load_before),
            load(load_average()),
        )),
    );
    report.add(
        Row::new(
            "Notifier on, 50 sessions changing state at 10 Hz: supervisor RSS",
            format!("{:.1} MB", mb(max(Mode::On, |w| w.rss))),
        )
        .beside(format!(
            "largest VmRSS sampled every second; `[notify] enabled = false`: {:.1} MB; flood: {:.1} MB; VmHWM (on / off / flood) {:.1} / {:.1} / {:.1} MB",
            mb(max(Mode::Off, |w| w.rss)),
            mb(max(Mode::Flood, |w| w.rss)),
            mb(max(Mode::On, |w| w.hwm)),
            mb(max(Mode::Off, |w| w.hwm)),
            mb(max(Mode::Flood, |w| w.hwm)),
        )),
    );
    report.record(
        "notify_cost",
        json!({
            "sessions": SESSIONS,
            "hz": HZ,
            "window_s": WINDOW.as_secs(),
            "windows": windows.iter().map(|w| json!({
                "notify": w.mode.name(),
                "cpu_s_per_s": w.cpu,
                "max_rss_kib": w.rss,
                "hwm_kib": w.hwm,
                "hook_events_per_s": w.rate,
            })).collect::<Vec<_>>(),
        }),
    );
    Ok(())
}

/// A fresh supervisor with the notifier `on` or off, driven for one window.
fn window(
    h: &Harness,
    rt: &Runtime,
    env: &Env,
    holders: &HashMap<String, u32>,
    mode: Mode,
) -> anyhow::Result<Window> {
    let config = env.config.join("config.toml");
    std::fs::write(
        &config,
        format!("{}\n[notify.desktop]\nenabled = false\n", mode.config()),
    )
    .with_context(|| format!("cannot write {}", config.display()))?;
    let sup = Supervisor::spawn(h, env)?;
    let pid = sup.pid;
    let result = rt.block_on(drive(env, holders, pid));
    sup.stop();
    let (cpu, rss, hwm, rate) = result?;
    Ok(Window {
        mode,
        cpu,
        rss,
        hwm,
        rate,
    })
}

/// Hands the supervisor `pid` a hook per session every 1/HZ s; returns its CPU-s/s, largest
/// VmRSS, VmHWM and the hook events handed over per second in the window.
async fn drive(
    env: &Env,
    holders: &HashMap<String, u32>,
    pid: u32,
) -> anyhow::Result<(f64, u64, u64, f64)> {
    let socket = env.socket();
    wait_listed(&socket, holders, 0, Instant::now() + LIST_LIMIT).await?;
    let mut conns = Vec::with_capacity(holders.len());
    for id in holders.keys() {
        let id = SessionId::parse(id).map_err(|e| anyhow::anyhow!("bad session id: {e}"))?;
        let c = Requester::connect(&socket, hello())
            .await
            .context("cannot connect to the supervisor")?;
        conns.push((id, c));
    }
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / HZ));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let start = Instant::now();
    let mut before: Option<(Instant, ProcStat)> = None;
    let (mut rss, mut sampled, mut hooks, mut round) = (0, Instant::now(), 0u64, 0u64);
    loop {
        tick.tick().await;
        if before.is_none() && start.elapsed() >= SETTLE {
            before = Some((Instant::now(), ProcStat::of(pid)?));
        }
        if start.elapsed() >= SETTLE + WINDOW {
            break;
        }
        let event = if round % 2 == 0 {
            "UserPromptSubmit"
        } else {
            "Stop"
        };
        for (id, c) in &mut conns {
            let call = HookCall {
                agent: "claude".into(),
                session: Some(id.clone()),
                ancestors: Vec::new(),
                agent_home: None,
                payload: json!({"hook_event_name": event, "session_id": "bench", "prompt": "go"}),
            };
            match c.request(Request::Hook(Box::new(call))).await? {
                Response::HookReply { .. } => {}
                other => bail!("the supervisor answered {other:?} to a hook"),
            }
        }
        round += 1;
        if before.is_some() {
            hooks += conns.len() as u64;
            if sampled.elapsed() >= Duration::from_secs(1) {
                rss = rss.max(Memory::of(pid)?.rss);
                sampled = Instant::now();
            }
        }
    }
    let (t0, s0) = before.context("the window never started")?;
    let s1 = ProcStat::of(pid)?;
    let secs = t0.elapsed().as_secs_f64();
    let mem = Memory::of(pid)?;
    let ticks = (s1.utime + s1.stime).saturating_sub(s0.utime + s0.stime);
    // Every session must be in the state of the last hook it was handed.
    let want = if round % 2 == 1 {
        AgentState::Working
    } else {
        AgentState::WaitingInput
    };
    let sessions = wait_listed(&socket, holders, 0, Instant::now() + LIST_LIMIT).await?;
    let behind = sessions
        .iter()
        .filter(|s| holders.contains_key(s.id.as_str()) && s.status.state != want)
        .count();
    if behind > 0 {
        bail!("{behind} of {SESSIONS} sessions were not {want:?} after the last hook: the hooks did not change their state");
    }
    Ok((
        ticks as f64 / TICKS_PER_SEC / secs,
        rss.max(mem.rss),
        mem.hwm,
        hooks as f64 / secs,
    ))
}
