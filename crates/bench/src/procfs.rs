//! Readings from /proc that explain the figures: per-thread context switches and CPU time of
//! a holder, and how busy the whole machine was.

use anyhow::Context;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Counters of one thread, from `/proc/<pid>/task/<tid>/{status,schedstat}`.
#[derive(Debug, Clone, Default)]
pub struct ThreadStats {
    pub name: String,
    /// Voluntary + involuntary context switches: grows each time the thread runs.
    pub switches: u64,
    /// Time on a CPU.
    pub cpu_ns: u64,
    /// Time runnable but waiting for a CPU.
    pub wait_ns: u64,
}

/// Every thread of `pid`, by tid.
pub fn threads(pid: u32) -> anyhow::Result<BTreeMap<u32, ThreadStats>> {
    let dir = format!("/proc/{pid}/task");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {dir}"))? {
        let entry = entry?;
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // A thread that ends between the listing and the reads is skipped.
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        let name = status
            .lines()
            .find_map(|l| l.strip_prefix("Name:"))
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        let sched = std::fs::read_to_string(entry.path().join("schedstat")).unwrap_or_default();
        let mut sched = sched
            .split_whitespace()
            .map(|v| v.parse::<u64>().unwrap_or(0));
        out.insert(
            tid,
            ThreadStats {
                name,
                switches: field("voluntary_ctxt_switches:") + field("nonvoluntary_ctxt_switches:"),
                cpu_ns: sched.next().unwrap_or(0),
                wait_ns: sched.next().unwrap_or(0),
            },
        );
    }
    Ok(out)
}

/// Per thread name, what grew from `before` to `now`; threads that did not run are left out.
pub fn growth(
    before: &BTreeMap<u32, ThreadStats>,
    now: &BTreeMap<u32, ThreadStats>,
) -> BTreeMap<String, ThreadStats> {
    let mut out: BTreeMap<String, ThreadStats> = BTreeMap::new();
    for (tid, t) in now {
        let was = before.get(tid).cloned().unwrap_or_default();
        let switches = t.switches.saturating_sub(was.switches);
        if switches == 0 {
            continue;
        }
        let e = out.entry(t.name.clone()).or_default();
        e.name.clone_from(&t.name);
        e.switches += switches;
        e.cpu_ns += t.cpu_ns.saturating_sub(was.cpu_ns);
        e.wait_ns += t.wait_ns.saturating_sub(was.wait_ns);
    }
    out
}

/// Per-thread growth as JSON: `{name: {switches, cpu_ms, wait_ms}}`.
pub fn growth_json(g: &BTreeMap<String, ThreadStats>) -> Value {
    g.iter()
        .map(|(name, t)| {
            let v = json!({
                "switches": t.switches,
                "cpu_ms": t.cpu_ns as f64 / 1e6,
                "wait_ms": t.wait_ns as f64 / 1e6,
            });
            (name.clone(), v)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Busy and total time of all CPUs so far, in clock ticks, from `/proc/stat`.
#[derive(Debug, Clone, Copy)]
pub struct CpuTimes {
    busy: u64,
    total: u64,
}

impl CpuTimes {
    pub fn now() -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let line = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .context("no cpu line in /proc/stat")?;
        // user nice system idle iowait irq softirq steal ...
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        let total: u64 = v.iter().sum();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        Ok(Self {
            busy: total - idle,
            total,
        })
    }

    /// How many of the machine's cores were busy, on average, since `earlier`.
    pub fn busy_cores_since(&self, earlier: &CpuTimes) -> f64 {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        cores * self.busy.saturating_sub(earlier.busy) as f64 / total
    }
}
