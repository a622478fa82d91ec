//! What the soak watches: every session listed and its holder and agent alive; memory and
//! descriptors of the supervisor and the holders sampled from /proc, their growth after
//! warm-up; descriptors back to the baseline once the clients left; `PRAGMA
//! integrity_check`; and the report.

use super::clients::{RestStats, Totals};
use super::faults::FaultCounts;
use super::options::SoakOptions;
use super::sessions::SessionSet;
use super::Violations;
use crate::endpoint::Endpoint;
use crate::harness::{process_alive, wait_for, Harness};
use anyhow::{bail, Context};
use paddock_client::HostClient;
use paddock_proto::supervisor::SessionView;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Waits until the supervisor's REST list holds every session in `ids`.
pub async fn wait_listed(hc: &HostClient, ids: &[String], limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    let mut missing = ids.len();
    let mut last_error = String::new();
    while Instant::now() < deadline {
        let call = tokio::time::timeout(
            Duration::from_secs(5),
            hc.get::<Vec<SessionView>>("/sessions"),
        );
        match call.await {
            Ok(Ok(list)) => {
                let listed: HashSet<String> = list.iter().map(|s| s.id.to_string()).collect();
                missing = ids.iter().filter(|id| !listed.contains(*id)).count();
                if missing == 0 {
                    return Ok(());
                }
            }
            Ok(Err(e)) => last_error = e.to_string(),
            Err(_) => last_error = "the request took over 5 s".into(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "{missing} of {} sessions not listed by the supervisor within {limit:?}{}",
        ids.len(),
        if last_error.is_empty() {
            String::new()
        } else {
            format!(" (last error: {last_error})")
        }
    )
}

/// No agent lost: each session listed (and not exited), its holder and its agent alive.
pub async fn check_agents(hc: &HostClient, ids: &[String], set: &SessionSet, v: &Violations) {
    if let Err(e) = wait_listed(hc, ids, Duration::from_secs(15)).await {
        v.add("no agent lost", format!("{e:#}"));
    }
    for s in set.all() {
        if !process_alive(s.session.holder_pid) {
            v.add(
                "no agent lost",
                format!(
                    "session {}'s holder (pid {}) is gone",
                    s.index, s.session.holder_pid
                ),
            );
        }
        if !process_alive(s.session.agent_pid) {
            v.add(
                "no agent lost",
                format!(
                    "session {}'s agent (pid {}) is gone",
                    s.index, s.session.agent_pid
                ),
            );
        }
    }
}

/// VmRSS in KiB and open descriptors of a process.
fn rss_fds(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((rss, fds))
}

/// Descriptors before the first client.
pub struct Baseline {
    pub supervisor_fds: u64,
    pub holder_fds: u64,
    per_holder: HashMap<u32, u64>,
}

impl Baseline {
    pub fn take(ep: &Endpoint, set: &SessionSet) -> anyhow::Result<Self> {
        let (_, supervisor_fds) =
            rss_fds(ep.pid()).context("cannot read the supervisor's /proc")?;
        let mut per_holder = HashMap::new();
        for s in set.all() {
            let (_, fds) = rss_fds(s.session.holder_pid).context("cannot read a holder's /proc")?;
            per_holder.insert(s.session.holder_pid, fds);
        }
        Ok(Self {
            supervisor_fds,
            holder_fds: per_holder.values().sum(),
            per_holder,
        })
    }
}

/// Once every client left, the supervisor's descriptors come back to the baseline (a few
/// more allowed: its store and log files may open lazily) and each holder's to its own
/// (one more allowed for a connection still closing); waits up to 15 s.
pub fn check_fds_settle(ep: &Endpoint, set: &SessionSet, base: &Baseline, v: &Violations) {
    const SUPERVISOR_SLACK: u64 = 8;
    const HOLDER_SLACK: u64 = 1;
    let holders_ok = || {
        set.all().all(|s| {
            let pid = s.session.holder_pid;
            let was = base.per_holder.get(&pid).copied().unwrap_or(0);
            rss_fds(pid).is_some_and(|(_, fds)| fds <= was + HOLDER_SLACK)
        })
    };
    let sup_ok =
        || rss_fds(ep.pid()).is_some_and(|(_, fds)| fds <= base.supervisor_fds + SUPERVISOR_SLACK);
    if !wait_for(Duration::from_secs(15), || holders_ok() && sup_ok()) {
        if let Some((_, fds)) =
            rss_fds(ep.pid()).filter(|(_, f)| *f > base.supervisor_fds + SUPERVISOR_SLACK)
        {
            v.add(
                "descriptors flat",
                format!("the supervisor holds {fds} descriptors with no client, {} before the first one", base.supervisor_fds),
            );
        }
        for s in set.all() {
            let pid = s.session.holder_pid;
            let was = base.per_holder.get(&pid).copied().unwrap_or(0);
            if let Some((_, fds)) = rss_fds(pid).filter(|(_, f)| *f > was + HOLDER_SLACK) {
                v.add(
                    "descriptors flat",
                    format!("session {}'s holder holds {fds} descriptors with no client, {was} before the first one", s.index),
                );
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub supervisor_pid: u32,
    pub supervisor_rss: u64,
    pub supervisor_fds: u64,
    pub holders_rss: u64,
    pub holders_fds: u64,
    pub holder_max_rss: u64,
}

/// Samples of the supervisor and the holders every 2 s.
pub struct Sampler {
    warmup: Duration,
    pub samples: Vec<Sample>,
}

impl Sampler {
    pub fn new(warmup: Duration) -> Self {
        Self {
            warmup,
            samples: Vec::new(),
        }
    }

    pub fn sample(&mut self, supervisor: u32, set: &SessionSet, at: Duration) {
        let (supervisor_rss, supervisor_fds) = rss_fds(supervisor).unwrap_or((0, 0));
        let (mut holders_rss, mut holders_fds, mut holder_max_rss) = (0, 0, 0);
        for s in set.all() {
            let (rss, fds) = rss_fds(s.session.holder_pid).unwrap_or((0, 0));
            holders_rss += rss;
            holders_fds += fds;
            holder_max_rss = holder_max_rss.max(rss);
        }
        self.samples.push(Sample {
            at,
            supervisor_pid: supervisor,
            supervisor_rss,
            supervisor_fds,
            holders_rss,
            holders_fds,
            holder_max_rss,
        });
    }

    /// The first sample after warm-up and the last.
    pub fn span(&self) -> Option<(Sample, Sample)> {
        let first = *self.samples.iter().find(|s| s.at >= self.warmup)?;
        let last = *self.samples.last()?;
        Some((first, last))
    }

    /// Holders' memory after warm-up may not grow by more than half (plus 16 MiB): their
    /// rings are full by then, so more is a leak.
    pub fn check_growth(&self, v: &Violations) {
        let Some((first, last)) = self.span() else {
            return v.add(
                "memory flat",
                "the run ended before its warm-up did: no sample to compare".into(),
            );
        };
        if last.holders_rss > first.holders_rss * 3 / 2 + 16 * 1024 {
            v.add(
                "memory flat",
                format!(
                    "the holders' resident memory grew from {} to {} KiB after warm-up",
                    first.holders_rss, last.holders_rss
                ),
            );
        }
    }
}

/// Stops the supervisor (SIGTERM) and runs `PRAGMA integrity_check` on its database.
pub fn integrity(h: &Harness, ep: &mut Endpoint) -> anyhow::Result<String> {
    ep.terminate();
    let db = h.dir().join("endpoint/data/paddock.db");
    let store = paddock_store::Store::open(&db)
        .with_context(|| format!("cannot open the store {}", db.display()))?;
    Ok(store.integrity_check()?)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn signed_mib(from: u64, to: u64) -> String {
    format!("{:+.1} MiB", (to as f64 - from as f64) / 1024.0)
}

/// The soak's figures as a markdown table.
pub fn report(
    opts: &SoakOptions,
    took: Duration,
    t: &Totals,
    f: &FaultCounts,
    rest: &RestStats,
    s: &Sampler,
    integrity: &anyhow::Result<String>,
) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("Run".into(), format!("{:.1} min, seed {}", took.as_secs_f64() / 60.0, opts.seed)),
        (
            "Sessions".into(),
            format!(
                "{} ({} flooding at ~{} KB/s each, {} interactive bash shells, the rest idle); 0 lost is checked every 5 s",
                opts.sessions,
                (opts.sessions / 5).max(1),
                opts.flood_rate / 1000,
                (opts.sessions / 5).max(1)
            ),
        ),
        (
            "WSS clients".into(),
            format!(
                "{}: {} attaches ({} resuming at an offset, {} lossless), {} reconnects by the client library, {} abrupt drops on the drop fault",
                opts.clients, t.attaches, t.resumes, t.lossless, t.reconnects, t.dropped
            ),
        ),
        (
            "Bytes checked".into(),
            format!(
                "{} bytes against what the agent printed at their offsets; {} bytes of shell output against the holder's ring",
                t.bytes_checked, t.bytes_recorded
            ),
        ),
        ("Resyncs announced (lagged, snapshot with gap)".into(), t.resyncs.to_string()),
        ("Commands typed into shells, echo and answer seen".into(), t.typed.to_string()),
        (
            "Faults".into(),
            format!(
                "{} kill -9 of the supervisor, {} SIGSTOP for {:?}, {} holder clients dead mid-frame, {} drops of every WSS connection",
                f.kills, f.stops, opts.stop_for, f.half_frames, f.drops
            ),
        ),
        ("Attach failures / stream errors (during faults)".into(), format!("{} / {}", t.attach_errors, t.stream_errors)),
        ("REST requests ok / failed (failures during faults)".into(), format!("{} / {}", rest.ok, rest.failed)),
    ];
    if !f.readopt.is_empty() {
        let mut r = f.readopt.clone();
        r.sort();
        rows.push((
            "Re-adoption after kill -9 (restart → every session listed), median / max".into(),
            format!(
                "{} / {} ms",
                r[r.len() / 2].as_millis(),
                r[r.len() - 1].as_millis()
            ),
        ));
    }
    if let Some((a, b)) = s.span() {
        let sup_peak = s
            .samples
            .iter()
            .map(|x| x.supervisor_rss)
            .max()
            .unwrap_or(0);
        rows.push((
            "Supervisor RSS after warm-up → end".into(),
            format!(
                "{} → {} ({}; restarts reset it{}); peak {}",
                mib(a.supervisor_rss),
                mib(b.supervisor_rss),
                signed_mib(a.supervisor_rss, b.supervisor_rss),
                if a.supervisor_pid == b.supervisor_pid {
                    ""
                } else {
                    ", the end is a later process"
                },
                mib(sup_peak)
            ),
        ));
        rows.push((
            "Supervisor descriptors after warm-up → end".into(),
            format!(
                "{} → {} ({:+})",
                a.supervisor_fds,
                b.supervisor_fds,
                b.supervisor_fds as i64 - a.supervisor_fds as i64
            ),
        ));
        rows.push((
            "Holders' RSS, all together, after warm-up → end".into(),
            format!(
                "{} → {} ({}); largest holder {}",
                mib(a.holders_rss),
                mib(b.holders_rss),
                signed_mib(a.holders_rss, b.holders_rss),
                mib(b.holder_max_rss)
            ),
        ));
        rows.push((
            "Holders' descriptors, all together, after warm-up → end".into(),
            format!(
                "{} → {} ({:+}; clients come and go)",
                a.holders_fds,
                b.holders_fds,
                b.holders_fds as i64 - a.holders_fds as i64
            ),
        ));
    }
    rows.push((
        "Store integrity_check at the end".into(),
        match integrity {
            Ok(s) => s.clone(),
            Err(e) => format!("failed: {e:#}"),
        },
    ));
    let mut out = String::from("| Soak | Figure |\n|---|---|\n");
    for (k, v) in rows {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out
}
