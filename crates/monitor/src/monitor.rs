//! [`Monitor`]: the process table, session trees sampled on demand, agent discovery.
//!
//! The supervisor owns one `Monitor` and calls it from a blocking task: `sample_trees` every
//! sample interval, `find_agents` every discovery interval, `host` for the system status.

use crate::classify::{classify_with, AgentKind, AgentPattern};
use crate::host::Host;
use crate::os::{self, lossy_args, Details, Platform, ScanEntry};
use crate::types::{AgentProcess, HostMetrics, ProcInfo, TreeSample};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// How long [`Monitor::find_agents`] trusts incremental scans, which do not see a process
/// call `exec`, before it reads every process again.
const EXEC_RESCAN: Duration = Duration::from_secs(10);

/// How long after it was first seen a process is read again by every incremental scan, to
/// catch the `exec` that launchers make right after they start.
const YOUNG: Duration = Duration::from_secs(5);

/// The longest between two full scans of the table, whatever the pids say.
const FULL_RESCAN: Duration = Duration::from_secs(60);

/// How the monitor behaves. Every field has a default (`MonitorConfig::default()`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// The shortest time between two looks at the process table made to find new children of
    /// session trees (`"1s"`). On Linux the table is looked at only when a process was created
    /// since the previous look (the kernel's fork counter moved), and then only the new pids
    /// are read; elsewhere the whole table is read every `rescan_interval`. A new child shows up
    /// in its tree at most this long after it started (on the next sample after that); exits
    /// are seen on the next sample whatever this is.
    #[serde(with = "humantime_serde")]
    pub rescan_interval: Duration,
    /// How often the slower-changing fields of a tree's processes (open files, working
    /// directory) are read again (`"5s"`). The command line, executable and start time are read
    /// once for a new process and again after an `exec`; CPU, memory, threads, status and
    /// terminal are read every sample.
    #[serde(with = "humantime_serde")]
    pub details_interval: Duration,
    /// The directory whose filesystem [`Monitor::host`] reports (the supervisor's data
    /// directory).
    pub data_dir: Option<PathBuf>,
    /// Extra agents, tried before the built-in rules (see [`AgentPattern`]).
    pub agents: Vec<AgentPattern>,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            rescan_interval: Duration::from_secs(1),
            details_interval: Duration::from_secs(5),
            data_dir: None,
            agents: Vec::new(),
        }
    }
}

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

/// One process in the table, as of the last scan or sample that saw it.
struct Entry {
    ppid: Option<u32>,
    start: u64,
    comm: String,
    kernel: bool,
    /// `None`: not classified yet; `Some(None)`: not an agent.
    class: Option<Option<AgentKind>>,
    /// When this process was first seen.
    seen_at: Instant,
}

/// Every process on the machine with its parent, kept between scans and patched by samples.
#[derive(Default)]
struct Table {
    entries: HashMap<u32, Entry>,
    children: HashMap<u32, Vec<u32>>,
    children_stale: bool,
    /// The fork counter read just before the last scan.
    forks: Option<u64>,
    /// The last pid handed out, read just before the last scan.
    last_pid: Option<u64>,
    scanned_at: Option<Instant>,
    full_scanned_at: Option<Instant>,
}

impl Table {
    /// Replaces the table with a full scan.
    fn apply_scan(&mut self, scan: &[ScanEntry], now: Instant) {
        let mut old = std::mem::take(&mut self.entries);
        self.entries.reserve(scan.len());
        for e in scan {
            // Keep what we know about a process seen before (same start; the class only if it
            // runs the same program).
            let (class, seen_at) = match old.remove(&e.pid).filter(|o| o.start == e.start) {
                Some(o) => ((o.comm == e.comm).then_some(o.class).flatten(), o.seen_at),
                None => (None, now),
            };
            self.entries.insert(
                e.pid,
                Entry {
                    ppid: e.ppid,
                    start: e.start,
                    comm: e.comm.clone(),
                    kernel: e.kernel,
                    class,
                    seen_at,
                },
            );
        }
        self.children_stale = true;
    }

    /// Drops the processes not in `pids` (the current list), adds `new` ones, and replaces
    /// `fresh` looks at known ones.
    fn apply_increment(&mut self, pids: &[u32], new: Vec<ScanEntry>, now: Instant) {
        let alive: HashSet<u32> = pids.iter().copied().collect();
        self.entries.retain(|pid, _| alive.contains(pid));
        for e in new {
            let seen_at = match self.entries.get(&e.pid) {
                Some(o) if o.start == e.start => o.seen_at,
                _ => now,
            };
            let class = match self.entries.remove(&e.pid) {
                Some(o) if o.start == e.start && o.comm == e.comm => o.class,
                _ => None,
            };
            self.entries.insert(
                e.pid,
                Entry {
                    ppid: e.ppid,
                    start: e.start,
                    comm: e.comm,
                    kernel: e.kernel,
                    class,
                    seen_at,
                },
            );
        }
        self.children_stale = true;
    }

    /// Patches the table with a fresh look at one process: its parent may have changed
    /// (re-parenting), its program (`exec`), or the pid may name another process now.
    fn observe(&mut self, pid: u32, d: &Details, now: Instant) {
        match self.entries.get_mut(&pid) {
            Some(e) if e.start == d.start => {
                if e.ppid != d.ppid {
                    e.ppid = d.ppid;
                    self.children_stale = true;
                }
                if e.comm != d.comm {
                    e.comm.clone_from(&d.comm);
                    e.class = None;
                }
            }
            _ => {
                self.entries.insert(
                    pid,
                    Entry {
                        ppid: d.ppid,
                        start: d.start,
                        comm: d.comm.clone(),
                        kernel: false,
                        class: None,
                        seen_at: now,
                    },
                );
                self.children_stale = true;
            }
        }
    }

    fn remove(&mut self, pid: u32) {
        if self.entries.remove(&pid).is_some() {
            self.children_stale = true;
        }
    }

    /// `root` and its descendants, parents before children; empty if `root` is unknown.
    fn tree(&mut self, root: u32) -> Vec<u32> {
        if !self.entries.contains_key(&root) {
            return Vec::new();
        }
        if self.children_stale {
            self.children.clear();
            for (&pid, e) in &self.entries {
                if let Some(ppid) = e.ppid {
                    self.children.entry(ppid).or_default().push(pid);
                }
            }
            for kids in self.children.values_mut() {
                kids.sort_unstable();
            }
            self.children_stale = false;
        }
        let mut out = vec![root];
        let mut queue = VecDeque::from([root]);
        let mut seen = HashSet::from([root]);
        while let Some(pid) = queue.pop_front() {
            for &kid in self.children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(kid) {
                    out.push(kid);
                    queue.push_back(kid);
                }
            }
        }
        out
    }

    /// The processes classified as agents that have no agent among their ancestors, by pid.
    fn outermost_agents(&self) -> Vec<(u32, AgentKind)> {
        let is_agent = |pid: &u32| {
            self.entries
                .get(pid)
                .is_some_and(|e| matches!(e.class, Some(Some(_))))
        };
        let mut found: Vec<(u32, AgentKind)> = self
            .entries
            .iter()
            .filter_map(|(pid, e)| match &e.class {
                Some(Some(kind)) => Some((*pid, kind.clone())),
                _ => None,
            })
            .filter(|(pid, _)| !self.ancestors(*pid).iter().any(is_agent))
            .collect();
        found.sort_unstable_by_key(|(pid, _)| *pid);
        found
    }

    /// Parent, grandparent, … of `pid` (bounded, in case the table holds a cycle after pid
    /// reuse).
    fn ancestors(&self, pid: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = self.entries.get(&pid).and_then(|e| e.ppid);
        while let Some(p) = cur {
            if out.len() >= 256 || out.contains(&p) {
                break;
            }
            out.push(p);
            cur = self.entries.get(&p).and_then(|e| e.ppid);
        }
        out
    }
}

/// What the monitor remembers about a process of a sampled tree.
struct Known {
    /// The platform's start key: with the pid, names one process.
    start: u64,
    /// CPU time at the previous CPU reading, when it was, and the percentage computed then.
    cpu_ms: u64,
    cpu_at: Instant,
    cpu_percent: f32,
    /// When the fields below were read, and the short name then (it changes on `exec`).
    read_at: Instant,
    comm: String,
    /// The fields read every `details_interval`.
    cmd: Vec<String>,
    exe: Option<PathBuf>,
    cwd: Option<PathBuf>,
    start_time: u64,
    open_files: Option<u32>,
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

    /// Samples each root's process tree (the root and its current descendants). Unknown, dead
    /// or exited (zombie) roots come back with `alive: false`. Results are in `roots` order.
    pub fn sample_trees(&mut self, roots: &[u32]) -> Vec<TreeSample> {
        let now = Instant::now();
        self.stats.tree_samples += 1;
        self.rescan_if_needed(roots, now);

        // Everything the table says is in some tree, as of the last scan.
        let mut candidates = Vec::new();
        let mut seen = HashSet::new();
        for &root in roots {
            for pid in self.table.tree(root) {
                if seen.insert(pid) {
                    candidates.push(pid);
                }
            }
        }

        // Keep sysinfo's list to about the processes sampled (by this call and others): it
        // never forgets a live process it was once asked about.
        if self.procs.processes().len() > 2 * (self.known.len() + candidates.len()) + 64 {
            self.procs = System::new();
        }
        if !self.platform.reads_cpu_and_memory() {
            let pids: Vec<Pid> = candidates.iter().map(|p| Pid::from_u32(*p)).collect();
            let kind = ProcessRefreshKind::nothing()
                .without_tasks()
                .with_cpu()
                .with_memory();
            self.procs
                .refresh_processes_specifics(ProcessesToUpdate::Some(&pids), true, kind);
        }

        // The per-sample fields; deaths, re-parenting and exec patch the table.
        let mut details = HashMap::with_capacity(candidates.len());
        let mut unknown = Vec::new();
        let mut due = Vec::new();
        for &pid in &candidates {
            let process = self.procs.process(Pid::from_u32(pid));
            let Some(d) = self.platform.details(pid, process) else {
                self.table.remove(pid);
                continue;
            };
            self.table.observe(pid, &d, now);
            match self.known.get(&pid) {
                // A new process, another under a reused pid, or one that called `exec`.
                Some(k) if k.start == d.start && k.comm == d.comm => {
                    if now.duration_since(k.read_at) >= self.details_interval {
                        due.push(pid);
                    }
                }
                _ => unknown.push(pid),
            }
            details.insert(pid, d);
        }
        self.read_new_processes(&unknown, &details, now);
        self.reread_slow_fields(&due, now);

        let mut out = Vec::with_capacity(roots.len());
        for &root in roots {
            let mut sample = TreeSample {
                root,
                alive: false,
                processes: Vec::new(),
                cpu_percent: 0.0,
                rss_bytes: 0,
                threads: 0,
                open_files: 0,
            };
            for pid in self.table.tree(root) {
                let (Some(d), Some(k)) = (details.get(&pid), self.known.get_mut(&pid)) else {
                    continue;
                };
                let info = proc_info(pid, d, k, now);
                sample.cpu_percent += info.cpu_percent;
                sample.rss_bytes = sample.rss_bytes.saturating_add(info.rss_bytes);
                sample.threads = sample.threads.saturating_add(info.threads.unwrap_or(0));
                sample.open_files = sample
                    .open_files
                    .saturating_add(info.open_files.unwrap_or(0));
                sample.processes.push(info);
            }
            sample.alive = sample
                .processes
                .first()
                .is_some_and(|p| p.pid == root && !p.status.has_exited());
            out.push(sample);
        }

        // Forget processes gone, and those of trees no longer asked about.
        let table = &self.table;
        self.known.retain(|pid, k| {
            table.entries.get(pid).is_some_and(|e| e.start == k.start)
                && now.duration_since(k.cpu_at) < Duration::from_secs(60)
        });
        out
    }

    /// Reads the command line, executable, working directory, start time and open files of
    /// processes not seen before (or that called `exec`) through sysinfo, into `self.known`.
    fn read_new_processes(&mut self, pids: &[u32], details: &HashMap<u32, Details>, now: Instant) {
        if pids.is_empty() {
            return;
        }
        let sys_pids: Vec<Pid> = pids.iter().map(|p| Pid::from_u32(*p)).collect();
        let kind = ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cmd(UpdateKind::Always)
            .with_exe(UpdateKind::Always)
            .with_cwd(UpdateKind::Always);
        self.procs
            .refresh_processes_specifics(ProcessesToUpdate::Some(&sys_pids), true, kind);
        for &pid in pids {
            let (Some(p), Some(d)) = (self.procs.process(Pid::from_u32(pid)), details.get(&pid))
            else {
                continue;
            };
            self.known.insert(
                pid,
                Known {
                    start: d.start,
                    cpu_ms: d.cpu_ms,
                    cpu_at: now,
                    cpu_percent: 0.0,
                    read_at: now,
                    comm: d.comm.clone(),
                    cmd: lossy_args(p.cmd()),
                    exe: p.exe().map(ToOwned::to_owned),
                    cwd: p.cwd().map(ToOwned::to_owned),
                    start_time: p.start_time(),
                    open_files: p.open_files().and_then(|n| u32::try_from(n).ok()),
                },
            );
        }
    }

    /// Reads again the working directory and open files of known processes: from the
    /// platform where it is cheaper (Linux: a `readlink` and a directory count), else sysinfo.
    fn reread_slow_fields(&mut self, pids: &[u32], now: Instant) {
        let mut through_sysinfo = Vec::new();
        for &pid in pids {
            match self.platform.cwd_and_open_files(pid) {
                Some((cwd, open_files)) => {
                    if let Some(k) = self.known.get_mut(&pid) {
                        k.cwd = cwd;
                        k.open_files = open_files;
                        k.read_at = now;
                    }
                }
                None => through_sysinfo.push(Pid::from_u32(pid)),
            }
        }
        if through_sysinfo.is_empty() {
            return;
        }
        let kind = ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cmd(UpdateKind::OnlyIfNotSet)
            .with_exe(UpdateKind::OnlyIfNotSet)
            .with_cwd(UpdateKind::Always);
        self.procs.refresh_processes_specifics(
            ProcessesToUpdate::Some(&through_sysinfo),
            true,
            kind,
        );
        for pid in through_sysinfo {
            if let (Some(p), Some(k)) = (self.procs.process(pid), self.known.get_mut(&pid.as_u32()))
            {
                k.cwd = p.cwd().map(ToOwned::to_owned);
                k.open_files = p.open_files().and_then(|n| u32::try_from(n).ok());
                k.read_at = now;
            }
        }
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

/// One process's sample; updates its CPU reading.
fn proc_info(pid: u32, d: &Details, k: &mut Known, now: Instant) -> ProcInfo {
    let elapsed = now.duration_since(k.cpu_at);
    // Two calls in quick succession: the delta would be mostly rounding; keep the last value.
    if elapsed >= Duration::from_millis(100) {
        let used = d.cpu_ms.saturating_sub(k.cpu_ms) as f64;
        k.cpu_percent = (used / elapsed.as_secs_f64() / 10.0) as f32;
        k.cpu_ms = d.cpu_ms;
        k.cpu_at = now;
    }
    ProcInfo {
        pid,
        ppid: d.ppid,
        name: d.comm.clone(),
        cmd: k.cmd.clone(),
        exe: k.exe.clone(),
        cwd: k.cwd.clone(),
        start_time: k.start_time,
        cpu_percent: k.cpu_percent,
        rss_bytes: d.rss_bytes,
        threads: d.threads,
        open_files: k.open_files,
        status: d.status,
        tty: d.tty.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::Command;
    use crate::types::ProcStatus;
    use std::sync::{Arc, Mutex};

    /// A process table the test writes; pids above any real pid_max, so sysinfo finds none.
    #[derive(Default)]
    struct FakeState {
        procs: HashMap<u32, (u32, u64, String)>, // pid -> (ppid, start, comm)
        forks: u64,
        last_pid: u64,
        stat_reads: usize,
    }

    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<FakeState>>);

    impl Fake {
        fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
            f(&mut self.0.lock().expect("fake lock"))
        }
        fn spawn(&self, pid: u32, ppid: u32, comm: &str) {
            self.with(|s| {
                s.procs
                    .insert(pid, (ppid, u64::from(pid) * 7, comm.to_owned()));
                s.forks += 1;
                s.last_pid = u64::from(pid);
            });
        }
        fn exit(&self, pid: u32) {
            self.with(|s| s.procs.remove(&pid));
        }
    }

    impl Platform for Fake {
        fn fork_count(&mut self) -> Option<u64> {
            Some(self.with(|s| s.forks))
        }
        fn last_pid(&mut self) -> Option<u64> {
            Some(self.with(|s| s.last_pid))
        }
        fn scan(&mut self, _commands: bool, out: &mut Vec<ScanEntry>) {
            out.clear();
            let mut pids = Vec::new();
            self.pids(&mut pids);
            out.extend(pids.into_iter().filter_map(|p| self.entry(p)));
        }
        fn pids(&mut self, out: &mut Vec<u32>) -> Option<()> {
            out.clear();
            self.with(|s| out.extend(s.procs.keys().copied()));
            Some(())
        }
        fn entry(&mut self, pid: u32) -> Option<ScanEntry> {
            self.with(|s| {
                s.stat_reads += 1;
                s.procs.get(&pid).map(|(ppid, start, comm)| ScanEntry {
                    pid,
                    ppid: (*ppid != 0).then_some(*ppid),
                    start: *start,
                    comm: comm.clone(),
                    kernel: false,
                })
            })
        }
        fn reads_cpu_and_memory(&self) -> bool {
            true
        }
        fn details(&mut self, pid: u32, _p: Option<&sysinfo::Process>) -> Option<Details> {
            let e = self.entry(pid)?;
            Some(Details {
                ppid: e.ppid,
                start: e.start,
                comm: e.comm,
                status: ProcStatus::Sleeping,
                tty: None,
                threads: Some(1),
                cpu_ms: 0,
                rss_bytes: 0,
            })
        }
        fn cwd_and_open_files(&mut self, _pid: u32) -> Option<(Option<PathBuf>, Option<u32>)> {
            Some((None, Some(0)))
        }
        fn command(&mut self, pid: u32) -> Option<Command> {
            let comm = self.with(|s| s.procs.get(&pid).map(|p| p.2.clone()))?;
            Some(Command {
                cmd: vec![comm],
                exe: None,
            })
        }
        fn process_count(&mut self) -> Option<usize> {
            Some(self.with(|s| s.procs.len()))
        }
    }

    const BASE: u32 = 10_000_000;

    fn fake_monitor() -> (Monitor, Fake) {
        let fake = Fake::default();
        fake.spawn(BASE + 1, 0, "init");
        let m = Monitor::with_platform(
            MonitorConfig {
                rescan_interval: Duration::ZERO,
                ..MonitorConfig::default()
            },
            Box::new(fake.clone()),
        );
        (m, fake)
    }

    #[test]
    fn no_process_created_means_no_look_at_the_table() {
        let (mut m, fake) = fake_monitor();
        fake.spawn(BASE + 10, BASE + 1, "sh");
        m.sample_trees(&[BASE + 10]);
        let stats = m.stats();
        assert_eq!((stats.table_scans, stats.incremental_scans), (1, 0));
        m.sample_trees(&[BASE + 10]);
        m.sample_trees(&[BASE + 10]);
        assert_eq!(m.stats().table_scans + m.stats().incremental_scans, 1);
    }

    #[test]
    fn new_children_are_found_by_incremental_scans_reading_only_new_pids() {
        let (mut m, fake) = fake_monitor();
        for i in 0..50 {
            fake.spawn(BASE + 100 + i, BASE + 1, "other");
        }
        fake.spawn(BASE + 10, BASE + 1, "sh");
        m.sample_trees(&[BASE + 10]);
        assert_eq!(m.table.tree(BASE + 10), vec![BASE + 10]);

        let reads_before = fake.with(|s| s.stat_reads);
        fake.spawn(BASE + 200, BASE + 10, "sleep");
        fake.spawn(BASE + 201, BASE + 200, "sleep");
        m.sample_trees(&[BASE + 10]);
        assert_eq!(m.stats().incremental_scans, 1);
        assert_eq!(
            m.table.tree(BASE + 10),
            vec![BASE + 10, BASE + 200, BASE + 201]
        );
        // The two new pids, the young ones again (all are young here), the tree's details.
        let reads = fake.with(|s| s.stat_reads) - reads_before;
        assert!(reads <= 2 + 53 + 3, "{reads} stat reads");

        fake.exit(BASE + 201);
        m.sample_trees(&[BASE + 10]);
        assert_eq!(m.table.tree(BASE + 10), vec![BASE + 10, BASE + 200]);
    }

    #[test]
    fn a_pid_wrap_around_forces_a_full_scan_that_sees_reused_pids() {
        let (mut m, fake) = fake_monitor();
        fake.spawn(BASE + 10, BASE + 1, "sh");
        fake.spawn(BASE + 500, BASE + 1, "unrelated");
        m.sample_trees(&[BASE + 10]);
        // BASE + 500 exits; after a wrap its pid goes to a child of the session.
        fake.exit(BASE + 500);
        fake.with(|s| {
            s.procs
                .insert(BASE + 500, (BASE + 10, 1, "sleep".to_owned()));
            s.forks += 1;
            s.last_pid = u64::from(BASE + 2);
        });
        m.sample_trees(&[BASE + 10]);
        assert_eq!(m.stats().table_scans, 2);
        assert_eq!(m.table.tree(BASE + 10), vec![BASE + 10, BASE + 500]);
    }

    #[test]
    fn find_agents_reports_the_outermost_agent_only() {
        let (mut m, fake) = fake_monitor();
        fake.spawn(BASE + 10, BASE + 1, "claude");
        fake.spawn(BASE + 11, BASE + 10, "claude");
        fake.spawn(BASE + 20, BASE + 1, "bash");
        fake.spawn(BASE + 21, BASE + 20, "codex");
        m.find_agents();
        assert_eq!(
            m.table.entries[&(BASE + 11)].class,
            Some(Some(AgentKind::Claude))
        );
        assert_eq!(
            m.table.outermost_agents(),
            vec![
                (BASE + 10, AgentKind::Claude),
                (BASE + 21, AgentKind::Codex)
            ]
        );
        assert_eq!(m.ancestors(BASE + 11), vec![BASE + 10, BASE + 1]);
    }

    #[test]
    fn the_monitor_can_move_to_a_blocking_thread() {
        fn send<T: Send>() {}
        send::<Monitor>();
    }
}
