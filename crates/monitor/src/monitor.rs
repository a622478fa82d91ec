//! [`Monitor`]: the process table, session trees sampled on demand, agent discovery.
//!
//! The supervisor owns one `Monitor` and calls it from a blocking task: `sample_trees` every
//! sample interval, `find_agents` every discovery interval, `host` for the system status.
//! Agent discovery and the table's upkeep are here; the table itself is `table`, tree
//! sampling `sample`, the settings `config`.

use crate::classify::{classify_with, AgentKind, AgentPattern};
use crate::host::Host;
use crate::os::{self, lossy_args, Platform, ScanEntry};
use crate::types::{AgentProcess, HostMetrics};
use sample::Known;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
use table::Table;

mod config;
mod sample;
mod table;

pub use config::MonitorConfig;

/// How long [`Monitor::find_agents`] trusts incremental scans, which do not see a process
/// call `exec`, before it reads every process again.
const EXEC_RESCAN: Duration = Duration::from_secs(10);

/// How long after it was first seen a process is read again by every incremental scan, to
/// catch the `exec` that launchers make right after they start.
const YOUNG: Duration = Duration::from_secs(5);

/// The longest between two full scans of the table, whatever the pids say.
const FULL_RESCAN: Duration = Duration::from_secs(60);

/// Counters for tests and cost measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonitorStats {
    /// Full scans of the process table so far (every process's `stat` read).
    pub table_scans: u64,
    /// Incremental scans so far (the pid list read, and only new processes' `stat`).
    pub incremental_scans: u64,
    /// Calls to [`Monitor::sample_trees`] so far.
    pub tree_samples: u64,
}

/// Samples session process trees, the host, and finds agents. See the crate documentation.
pub struct Monitor {
    patterns: Vec<AgentPattern>,
    rescan_interval: Duration,
    platform: Box<dyn Platform>,
    table: Table,
    scan_buf: Vec<ScanEntry>,
    /// sysinfo's view of the processes of the sampled trees only.
    procs: System,
    known: HashMap<u32, Known>,
    details_interval: Duration,
    /// sysinfo's view of the agents found, for their details.
    agents_sys: System,
    host: Host,
    stats: MonitorStats,
}

impl Monitor {
    /// A monitor for this machine.
    ///
    /// On Linux this tells sysinfo not to keep `/proc/<pid>/stat` files open between
    /// refreshes (`sysinfo::set_open_files_limit(0)`, process-wide): the monitor reads those
    /// files itself and sysinfo only on first sight of a process, so kept files would cost
    /// descriptors and save nothing.
    pub fn new(config: MonitorConfig) -> Self {
        #[cfg(target_os = "linux")]
        sysinfo::set_open_files_limit(0);
        Self::with_platform(config, os::native())
    }

    /// A monitor that reads processes through sysinfo alone, as on macOS (for tests on Linux).
    #[doc(hidden)]
    pub fn new_portable(config: MonitorConfig) -> Self {
        Self::with_platform(config, Box::new(os::portable::Portable::default()))
    }

    fn with_platform(config: MonitorConfig, platform: Box<dyn Platform>) -> Self {
        Self {
            patterns: config.agents,
            rescan_interval: config.rescan_interval,
            platform,
            table: Table::default(),
            scan_buf: Vec::new(),
            procs: System::new(),
            known: HashMap::new(),
            details_interval: config.details_interval,
            agents_sys: System::new(),
            host: Host::new(config.data_dir),
            stats: MonitorStats::default(),
        }
    }

    /// Counters since this monitor was made.
    pub fn stats(&self) -> MonitorStats {
        self.stats
    }

    /// The agent kind by the built-in rules (see [`crate::classify()`]).
    pub fn classify(cmd: &[String], exe: Option<&std::path::Path>) -> Option<AgentKind> {
        crate::classify::classify(cmd, exe)
    }

    /// The agent kind by this monitor's extra patterns, then the built-in rules.
    pub fn classify_with_patterns(
        &self,
        cmd: &[String],
        exe: Option<&std::path::Path>,
    ) -> Option<AgentKind> {
        classify_with(&self.patterns, cmd, exe)
    }

    /// The parent, grandparent, … of `pid` as of the last scan or sample (empty if unknown).
    /// Lets the supervisor tell whether an agent runs inside one of its own sessions.
    pub fn ancestors(&self, pid: u32) -> Vec<u32> {
        self.table.ancestors(pid)
    }

    /// Every process on the machine that runs an agent and is not a descendant of another
    /// such process, with its terminal, working directory, start time, parent and command.
    /// Brings the process table up to date (on Linux: nothing to do if no process was created
    /// since the last look, only the new ones read if some were, every process read every
    /// 10 s); the command line of a process is read once (again only after it calls `exec`).
    pub fn find_agents(&mut self) -> Vec<AgentProcess> {
        let now = Instant::now();
        let forks = self.platform.fork_count();
        // Processes that call `exec` without creating any (`exec claude` in a shell) change
        // program unseen by incremental scans: read every process now and then.
        let full = self
            .table
            .full_scanned_at
            .is_none_or(|at| now.duration_since(at) >= EXEC_RESCAN);
        let created = forks.is_none() || forks != self.table.forks;
        if full || created {
            self.update_table(forks, now, full, true);
        }

        let unclassified: Vec<u32> = self
            .table
            .entries
            .iter()
            .filter(|(_, e)| !e.kernel && e.class.is_none())
            .map(|(pid, _)| *pid)
            .collect();
        for pid in unclassified {
            let class = self
                .platform
                .command(pid)
                .and_then(|c| classify_with(&self.patterns, &c.cmd, c.exe.as_deref()));
            if let Some(e) = self.table.entries.get_mut(&pid) {
                e.class = Some(class);
            }
        }

        let found = self.table.outermost_agents();

        if self.agents_sys.processes().len() > 2 * found.len() + 16 {
            self.agents_sys = System::new();
        }
        let pids: Vec<Pid> = found.iter().map(|(p, _)| Pid::from_u32(*p)).collect();
        let kind = ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cmd(UpdateKind::Always)
            .with_exe(UpdateKind::Always)
            .with_cwd(UpdateKind::Always);
        self.agents_sys
            .refresh_processes_specifics(ProcessesToUpdate::Some(&pids), true, kind);

        let mut agents = Vec::with_capacity(found.len());
        for (pid, kind) in found {
            let Some(p) = self.agents_sys.process(Pid::from_u32(pid)) else {
                continue;
            };
            let Some(d) = self.platform.details(pid, Some(p)) else {
                continue;
            };
            if d.status.has_exited() {
                continue;
            }
            agents.push(AgentProcess {
                pid,
                ppid: d.ppid,
                kind,
                name: d.comm,
                cmd: lossy_args(p.cmd()),
                exe: p.exe().map(ToOwned::to_owned),
                cwd: p.cwd().map(ToOwned::to_owned),
                start_time: p.start_time(),
                tty: d.tty,
            });
        }
        agents
    }

    /// The machine's CPU, memory, data-directory disk, load, network and process count.
    pub fn host(&mut self) -> HostMetrics {
        let count = match self.platform.process_count() {
            Some(n) => n,
            None => {
                if self.table.scanned_at.is_none() {
                    let forks = self.platform.fork_count();
                    self.update_table(forks, Instant::now(), true, false);
                }
                self.table.entries.len()
            }
        };
        self.host.sample(count)
    }

    fn rescan_if_needed(&mut self, roots: &[u32], now: Instant) {
        let forks = self.platform.fork_count();
        let Some(scanned_at) = self.table.scanned_at else {
            self.update_table(forks, now, true, false);
            return;
        };
        // Without a fork counter, assume something may have started.
        let created = forks.is_none() || forks != self.table.forks;
        let due = now.duration_since(scanned_at) >= self.rescan_interval;
        // A root the table does not hold started after the last scan (or is gone): with a fork
        // counter that moved, look at once rather than after the interval.
        let missing_root = forks.is_some()
            && roots
                .iter()
                .any(|root| !self.table.entries.contains_key(root));
        if created && (due || missing_root) {
            self.update_table(forks, now, false, false);
        }
    }

    /// Brings the table up to date: incrementally (list the pids, read only the new ones) when
    /// the platform can and no pid can have been reused since the last scan; else, or when
    /// `full` or the last full scan is old, by reading every process.
    fn update_table(&mut self, forks: Option<u64>, now: Instant, full: bool, commands: bool) {
        let last_pid = self.platform.last_pid();
        let wrapped = match (last_pid, self.table.last_pid) {
            (Some(now_last), Some(before)) => now_last < before,
            _ => true,
        };
        let old = self
            .table
            .full_scanned_at
            .is_none_or(|at| now.duration_since(at) >= FULL_RESCAN);
        let mut pids = Vec::new();
        if full || wrapped || old || self.platform.pids(&mut pids).is_none() {
            self.platform.scan(commands, &mut self.scan_buf);
            self.table.apply_scan(&self.scan_buf, now);
            self.table.full_scanned_at = Some(now);
            self.stats.table_scans += 1;
            tracing::trace!(processes = self.scan_buf.len(), "process table scanned");
        } else {
            // New pids, and young processes again: a launcher (`env`, `nohup`, a wrapper
            // script) calls `exec` just after it starts, maybe after we read it.
            let new: Vec<ScanEntry> = pids
                .iter()
                .filter(|pid| {
                    self.table
                        .entries
                        .get(pid)
                        .is_none_or(|e| now.duration_since(e.seen_at) < YOUNG)
                })
                .filter_map(|pid| self.platform.entry(*pid))
                .collect();
            tracing::trace!(
                processes = pids.len(),
                new = new.len(),
                "process table updated"
            );
            self.table.apply_increment(&pids, new, now);
            self.stats.incremental_scans += 1;
        }
        self.table.forks = forks;
        self.table.last_pid = last_pid;
        self.table.scanned_at = Some(now);
    }
}

#[cfg(test)]
mod tests;
