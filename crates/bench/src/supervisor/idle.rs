//! Measurement 1, the idle cost: once the supervisor lists every session and has settled, a
//! window in which its CPU (own and reaped children's), its memory each second, the tmux
//! server's and the bridges' CPU, and the machine's new processes are counted; the report's
//! rows for one window.

use super::daemon::{status, wait_listed, Supervisor};
use super::env::Env;
use super::fleet::{Fleet, TmuxServer};
use super::procstat::{processes_created, Memory, ProcStat};
use super::{LIST_LIMIT, SETTLE, TICKS_PER_SEC};
use crate::harness::sessions_in;
use crate::procfs::{self, CpuTimes};
use crate::report::{load_average, Report, Row};
use anyhow::bail;
use paddock_proto::supervisor::{Backend, SupervisorStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One idle window of one supervisor.
pub(super) struct Idle {
    pub(super) sessions: usize,
    holders: usize,
    panes: usize,
    /// External agents the supervisor listed (the machine's, not ours).
    external: usize,
    /// From spawn to every session listed.
    listed_after: Duration,
    wall: Duration,
    own_ticks: u64,
    child_ticks: u64,
    tmux_ticks: u64,
    /// Bridges (holders the supervisor started for agent panes): how many, their CPU over
    /// the window and their summed VmRSS at its end.
    bridges: usize,
    bridge_ticks: u64,
    bridge_rss_kib: u64,
    bridge_anon_kib: u64,
    /// CPU by thread name, from schedstat.
    threads: BTreeMap<String, procfs::ThreadStats>,
    thread_count: u64,
    max_rss_kib: u64,
    end: Memory,
    busy_cores: f64,
    /// Processes the machine created during the window, and in how many of its seconds.
    forks: u64,
    seconds_with_forks: usize,
    seconds: usize,
    load: Option<f64>,
    status: Option<SupervisorStatus>,
}

impl Idle {
    fn percent(&self, ticks: u64) -> f64 {
        ticks as f64 / TICKS_PER_SEC / self.wall.as_secs_f64() * 100.0
    }

    pub(super) fn own_percent(&self) -> f64 {
        self.percent(self.own_ticks)
    }

    fn child_percent(&self) -> f64 {
        self.percent(self.child_ticks)
    }

    pub(super) fn total_percent(&self) -> f64 {
        self.own_percent() + self.child_percent()
    }

    /// The threads that used the most CPU, with their share.
    fn top_threads(&self) -> String {
        let total: u64 = self.threads.values().map(|t| t.cpu_ns).sum();
        let mut v: Vec<_> = self.threads.values().collect();
        v.sort_by_key(|t| std::cmp::Reverse(t.cpu_ns));
        let parts: Vec<String> = v
            .iter()
            .take(3)
            .map(|t| {
                format!(
                    "{} {:.0} %",
                    t.name,
                    t.cpu_ns as f64 * 100.0 / total.max(1) as f64
                )
            })
            .collect();
        parts.join(", ")
    }

    pub(super) fn json(&self) -> Value {
        json!({
            "sessions": self.sessions,
            "holders": self.holders,
            "tmux_panes": self.panes,
            "external_listed": self.external,
            "listed_after_ms": self.listed_after.as_secs_f64() * 1e3,
            "window_secs": self.wall.as_secs_f64(),
            "cpu_percent_own": self.own_percent(),
            "cpu_percent_children": self.child_percent(),
            "cpu_percent_tmux_server": self.percent(self.tmux_ticks),
            "cpu_ticks": {
                "own": self.own_ticks,
                "children": self.child_ticks,
                "tmux_server": self.tmux_ticks,
                "bridges": self.bridge_ticks,
            },
            "bridges": {
                "count": self.bridges,
                "cpu_percent": self.percent(self.bridge_ticks),
                "vm_rss_sum_kib": self.bridge_rss_kib,
                "rss_anon_sum_kib": self.bridge_anon_kib,
            },
            "threads": procfs::growth_json(&self.threads),
            "thread_count": self.thread_count,
            "vm_rss_max_kib": self.max_rss_kib,
            "vm_rss_end_kib": self.end.rss,
            "vm_hwm_kib": self.end.hwm,
            "rss_anon_kib": self.end.anon,
            "rss_file_kib": self.end.file,
            "machine": {
                "busy_cores": self.busy_cores,
                "processes_created": self.forks,
                "seconds_with_new_processes": self.seconds_with_forks,
                "seconds": self.seconds,
                "load_1m_at_end": self.load,
            },
            "status": self.status,
        })
    }
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

pub(super) fn add_idle_rows(report: &mut Report, m: &Idle, (cpu_target, rss_target): (f64, u64)) {
    let n = m.sessions;
    let what = format!("{} holders + {} tmux panes", m.holders, m.panes);
    let external = match m.external {
        0 => String::new(),
        1 => " (and 1 external agent of the machine)".to_owned(),
        e => format!(" (and {e} external agents of the machine)"),
    };
    report.add(
        Row::new(
            format!("Supervisor idle CPU, {n} sessions"),
            format!("{:.2} % of a core", m.total_percent()),
        )
        .beside(format!(
            "own {:.2} % + reaped children (tmux list-panes) {:.2} %; {what}{external}; \
             {:.0} s window; threads: {}; the tmux server used {:.2} % meanwhile",
            m.own_percent(),
            m.child_percent(),
            m.wall.as_secs_f64(),
            m.top_threads(),
            m.percent(m.tmux_ticks),
        ))
        .target(format!("≤ {cpu_target} %"), m.total_percent() <= cpu_target),
    );
    report.add(
        Row::new(format!("Supervisor RSS, {n} sessions"), mb(m.max_rss_kib))
            .beside(format!(
                "largest VmRSS of the window ({} anonymous + {} file-backed at its end); \
             peak since start (VmHWM) {}",
                mb(m.end.anon),
                mb(m.end.file),
                mb(m.end.hwm),
            ))
            .target(
                format!("≤ {} MB", rss_target / 1_000_000),
                m.max_rss_kib * 1024 <= rss_target,
            ),
    );
    if m.bridges > 0 {
        report.add(
            Row::new(
                format!("tmux bridges, {n} sessions"),
                format!("{:.2} % of a core", m.percent(m.bridge_ticks)),
            )
            .beside(format!(
                "the {} holders the supervisor started to mirror the agent panes, together; \
                 VmRSS summed {} ({} anonymous, the rest file-backed pages they share); \
                 not in the supervisor's figures",
                m.bridges,
                mb(m.bridge_rss_kib),
                mb(m.bridge_anon_kib),
            )),
        );
    }
    report.add(
        Row::new(
            format!("Machine during the {n}-session window"),
            format!(
                "{:.2} of {} cores busy",
                m.busy_cores,
                std::thread::available_parallelism().map_or(0, |n| n.get())
            ),
        )
        .beside(format!(
            "{} processes created (the supervisor's own `tmux list-panes` among them), in {} of \
             {} seconds; the watcher looks for new agents only when some were; load average {}",
            m.forks,
            m.seconds_with_forks,
            m.seconds,
            m.load.map_or("?".to_owned(), |l| l.to_string()),
        )),
    );
}

/// Waits until the supervisor lists every session of the fleet, lets it settle, then
/// watches it idle for `window`.
pub(super) async fn idle_window(
    sup: &Supervisor,
    env: &Env,
    fleet: &Fleet,
    window: Duration,
) -> anyhow::Result<Idle> {
    let want = fleet.holder_pids();
    let panes = fleet.panes();
    let sessions = wait_listed(&env.socket(), &want, panes, sup.spawned_at + LIST_LIMIT).await?;
    let listed_after = sup.spawned_at.elapsed();
    eprintln!(
        "  {} sessions listed {} ms after the start; {} s to settle, then {} s",
        want.len() + panes,
        listed_after.as_millis(),
        SETTLE.as_secs(),
        window.as_secs()
    );
    tokio::time::sleep(SETTLE).await;

    let pid = sup.pid;
    let tmux = fleet.tmux.as_ref();
    // Holders the supervisor started itself: one bridge per agent pane.
    let bridges: Vec<u32> = sessions_in(&env.runtime)
        .into_iter()
        .filter(|s| !want.contains_key(&s.id))
        .map(|s| s.holder_pid)
        .collect();
    let bridge_ticks = || -> u64 {
        bridges
            .iter()
            .filter_map(|&p| ProcStat::of(p).ok())
            .map(|s| s.utime + s.stime)
            .sum()
    };
    let bridges_before = bridge_ticks();
    let before = ProcStat::of(pid)?;
    let threads_before = procfs::threads(pid)?;
    let cpu_before = CpuTimes::now()?;
    let tmux_before = tmux.map_or(0, TmuxServer::cpu_ticks);
    let forks_before = processes_created();
    let started = Instant::now();

    let mut max_rss = Memory::of(pid)?.rss;
    let mut seconds_with_forks = 0;
    let mut prev_forks = forks_before;
    let seconds = window.as_secs().max(1) as usize;
    for i in 1..=seconds {
        // Sleep until the i-th second of the window (no drift from the reads).
        let at = started + Duration::from_secs(i as u64);
        tokio::time::sleep(at.saturating_duration_since(Instant::now())).await;
        max_rss = max_rss.max(Memory::of(pid)?.rss);
        let forks = processes_created();
        if forks != prev_forks {
            seconds_with_forks += 1;
        }
        prev_forks = forks;
    }

    let after = ProcStat::of(pid)?;
    let threads_after = procfs::threads(pid)?;
    let wall = started.elapsed();
    let cpu_after = CpuTimes::now()?;
    let tmux_after = tmux.map_or(0, TmuxServer::cpu_ticks);
    let bridges_after = bridge_ticks();
    let bridge_memory: Vec<Memory> = bridges.iter().filter_map(|&p| Memory::of(p).ok()).collect();
    let end = Memory::of(pid)?;
    let forks = processes_created() - forks_before;
    let load = load_average();
    // Still every session, after the window.
    let status = status(&env.socket()).await.ok();
    if let Some(s) = &status {
        if (s.holders as usize) < want.len() || (s.tmux as usize) < panes {
            bail!(
                "after the window the supervisor lists {} holders and {} tmux sessions, not {} and {}",
                s.holders,
                s.tmux,
                want.len(),
                panes
            );
        }
    }
    Ok(Idle {
        sessions: want.len() + panes,
        holders: want.len(),
        panes,
        external: status.as_ref().map_or_else(
            || {
                sessions
                    .iter()
                    .filter(|s| s.backend == Backend::External)
                    .count()
            },
            |s| s.external as usize,
        ),
        listed_after,
        wall,
        own_ticks: (after.utime + after.stime).saturating_sub(before.utime + before.stime),
        child_ticks: (after.cutime + after.cstime).saturating_sub(before.cutime + before.cstime),
        tmux_ticks: tmux_after.saturating_sub(tmux_before),
        bridges: bridges.len(),
        bridge_ticks: bridges_after.saturating_sub(bridges_before),
        bridge_rss_kib: bridge_memory.iter().map(|m| m.rss).sum(),
        bridge_anon_kib: bridge_memory.iter().map(|m| m.anon).sum(),
        threads: procfs::growth(&threads_before, &threads_after),
        thread_count: after.threads,
        max_rss_kib: max_rss.max(end.rss),
        end,
        busy_cores: cpu_after.busy_cores_since(&cpu_before),
        forks,
        seconds_with_forks,
        seconds,
        load,
        status,
    })
}
