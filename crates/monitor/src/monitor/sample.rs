//! Sampling session process trees: [`Monitor::sample_trees`] and what it remembers of each
//! process between samples (CPU readings, slow fields).

use super::Monitor;
use crate::os::{lossy_args, Details};
use crate::types::{ProcInfo, TreeSample};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// What the monitor remembers about a process of a sampled tree.
pub(super) struct Known {
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

impl Monitor {
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
}

/// One process's sample; updates its CPU reading.
pub(super) fn proc_info(pid: u32, d: &Details, k: &mut Known, now: Instant) -> ProcInfo {
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
