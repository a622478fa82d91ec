//! The process table: every process on the machine with its parent, kept between scans
//! and patched by samples; walks trees, ancestors and the outermost agents.

use crate::classify::AgentKind;
use crate::os::{Details, ScanEntry};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

/// One process in the table, as of the last scan or sample that saw it.
pub(super) struct Entry {
    pub(super) ppid: Option<u32>,
    pub(super) start: u64,
    pub(super) comm: String,
    pub(super) kernel: bool,
    /// `None`: not classified yet; `Some(None)`: not an agent.
    pub(super) class: Option<Option<AgentKind>>,
    /// When this process was first seen.
    pub(super) seen_at: Instant,
}

/// Every process on the machine with its parent, kept between scans and patched by samples.
#[derive(Default)]
pub(super) struct Table {
    pub(super) entries: HashMap<u32, Entry>,
    pub(super) children: HashMap<u32, Vec<u32>>,
    pub(super) children_stale: bool,
    /// The fork counter read just before the last scan.
    pub(super) forks: Option<u64>,
    /// The last pid handed out, read just before the last scan.
    pub(super) last_pid: Option<u64>,
    pub(super) scanned_at: Option<Instant>,
    pub(super) full_scanned_at: Option<Instant>,
}

impl Table {
    /// Replaces the table with a full scan.
    pub(super) fn apply_scan(&mut self, scan: &[ScanEntry], now: Instant) {
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
    pub(super) fn apply_increment(&mut self, pids: &[u32], new: Vec<ScanEntry>, now: Instant) {
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
    pub(super) fn observe(&mut self, pid: u32, d: &Details, now: Instant) {
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

    pub(super) fn remove(&mut self, pid: u32) {
        if self.entries.remove(&pid).is_some() {
            self.children_stale = true;
        }
    }

    /// `root` and its descendants, parents before children; empty if `root` is unknown.
    pub(super) fn tree(&mut self, root: u32) -> Vec<u32> {
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
    pub(super) fn outermost_agents(&self) -> Vec<(u32, AgentKind)> {
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
    pub(super) fn ancestors(&self, pid: u32) -> Vec<u32> {
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
