//! What the monitor reports: processes, session trees, agents found, host metrics.
//!
//! Plain data, serializable, built by [`Monitor`](crate::Monitor) and handed to the supervisor.

use crate::classify::AgentKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The scheduling state of a process, as `ps` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcStatus {
    /// On a CPU or ready to run (`R`).
    Running,
    /// Waiting for an event (`S`), the usual state of an idle agent.
    Sleeping,
    /// Idle kernel thread (`I`).
    Idle,
    /// Uninterruptible sleep, usually disk I/O (`D`).
    DiskSleep,
    /// Stopped by a signal (`T`): SIGSTOP, SIGTSTP (Ctrl-Z), SIGTTIN, SIGTTOU.
    Stopped,
    /// Stopped by a debugger (`t`).
    Tracing,
    /// Exited but not yet reaped by its parent (`Z`).
    Zombie,
    /// Exiting (`X`).
    Dead,
    /// Anything else the OS reports.
    Unknown,
}

impl ProcStatus {
    /// The name it has on the wire (as serde writes it): `running`, `sleeping`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ProcStatus::Running => "running",
            ProcStatus::Sleeping => "sleeping",
            ProcStatus::Idle => "idle",
            ProcStatus::DiskSleep => "disk_sleep",
            ProcStatus::Stopped => "stopped",
            ProcStatus::Tracing => "tracing",
            ProcStatus::Zombie => "zombie",
            ProcStatus::Dead => "dead",
            ProcStatus::Unknown => "unknown",
        }
    }

    /// Whether the process has exited (a zombie has, even though its entry remains).
    pub fn has_exited(self) -> bool {
        matches!(self, ProcStatus::Zombie | ProcStatus::Dead)
    }

    /// From the state letter of `/proc/<pid>/stat` (Linux only: other systems have no `/proc`).
    #[cfg(target_os = "linux")]
    pub(crate) fn from_linux_state(c: char) -> Self {
        match c {
            'R' => ProcStatus::Running,
            'S' => ProcStatus::Sleeping,
            'I' => ProcStatus::Idle,
            'D' => ProcStatus::DiskSleep,
            'T' => ProcStatus::Stopped,
            't' => ProcStatus::Tracing,
            'Z' => ProcStatus::Zombie,
            'X' | 'x' => ProcStatus::Dead,
            _ => ProcStatus::Unknown,
        }
    }
}

impl From<sysinfo::ProcessStatus> for ProcStatus {
    fn from(s: sysinfo::ProcessStatus) -> Self {
        use sysinfo::ProcessStatus as S;
        match s {
            S::Run => ProcStatus::Running,
            S::Sleep | S::Waking | S::Wakekill | S::LockBlocked | S::Parked => ProcStatus::Sleeping,
            S::Idle => ProcStatus::Idle,
            S::UninterruptibleDiskSleep => ProcStatus::DiskSleep,
            S::Stop => ProcStatus::Stopped,
            S::Tracing => ProcStatus::Tracing,
            S::Zombie => ProcStatus::Zombie,
            S::Dead => ProcStatus::Dead,
            S::Unknown(_) => ProcStatus::Unknown,
        }
    }
}

/// One process of a session's tree, as sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcInfo {
    pub pid: u32,
    /// The parent's pid (`None` for the first process of the machine or when unknown).
    pub ppid: Option<u32>,
    /// The short name the OS gives the process (on Linux its `comm`, at most 15 bytes).
    pub name: String,
    /// The command line (argv), lossily decoded; empty for zombies and processes we may not read.
    pub cmd: Vec<String>,
    /// The executable's path, when readable.
    pub exe: Option<PathBuf>,
    /// The working directory, when readable.
    pub cwd: Option<PathBuf>,
    /// When it started, in seconds since the Unix epoch.
    pub start_time: u64,
    /// CPU used since the previous sample, in percent of one core (so it can exceed 100 for a
    /// multi-threaded process); 0 on the first sample of a process.
    pub cpu_percent: f32,
    /// Resident memory.
    pub rss_bytes: u64,
    /// Threads (Linux; `None` elsewhere).
    pub threads: Option<u32>,
    /// Open file descriptors, when readable.
    pub open_files: Option<u32>,
    pub status: ProcStatus,
    /// The controlling terminal, e.g. `/dev/pts/3` (Linux; `None` when it has none).
    pub tty: Option<String>,
}

/// One session's process tree: its root and every descendant, with totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeSample {
    /// The pid the supervisor asked about.
    pub root: u32,
    /// False when the root does not exist, has exited (even if not yet reaped), or was never
    /// seen.
    pub alive: bool,
    /// The root first, then its descendants (parents before children). A child that exited
    /// stays, as a zombie, until its parent reaps it.
    pub processes: Vec<ProcInfo>,
    /// Sum over the tree, in percent of one core.
    pub cpu_percent: f32,
    /// Sum over the tree (shared pages counted once per process, as `ps` does).
    pub rss_bytes: u64,
    /// Sum over the tree of the known thread counts.
    pub threads: u32,
    /// Sum over the tree of the known open file counts.
    pub open_files: u32,
}

/// A process on the machine that runs an agent, found by
/// [`Monitor::find_agents`](crate::Monitor::find_agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentProcess {
    pub pid: u32,
    pub ppid: Option<u32>,
    pub kind: AgentKind,
    pub name: String,
    pub cmd: Vec<String>,
    pub exe: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    /// Seconds since the Unix epoch.
    pub start_time: u64,
    /// The controlling terminal, e.g. `/dev/pts/3`, when known.
    pub tty: Option<String>,
}

/// The machine's state, for a system status page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostMetrics {
    /// All CPUs together, 0 to 100; 0 on the first call (it needs two readings).
    pub cpu_percent: f32,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory in use (total minus available).
    pub memory_used_bytes: u64,
    pub memory_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub swap_total_bytes: u64,
    /// The filesystem that holds the data directory (`None` without one, or if unreadable).
    pub disk: Option<DiskMetrics>,
    /// Load average over 1, 5 and 15 minutes (zeros where the OS has none).
    pub load_average: [f64; 3],
    /// Bytes received and sent by every network interface but loopback, since boot.
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    /// Rates since the previous call; 0 on the first call.
    pub net_rx_bytes_per_sec: f64,
    pub net_tx_bytes_per_sec: f64,
    /// Processes on the machine (kernel threads included on Linux, as `ps -e` counts).
    pub process_count: usize,
    /// Seconds since boot.
    pub uptime_secs: u64,
}

/// Space on one filesystem, as `df` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskMetrics {
    /// The directory it was asked about.
    pub path: PathBuf,
    pub used_bytes: u64,
    pub total_bytes: u64,
    /// What an unprivileged user can still write (less than total − used: reserved blocks).
    pub available_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::ProcStatus;

    #[test]
    fn status_names_are_the_ones_serde_writes() {
        use ProcStatus::*;
        for s in [
            Running, Sleeping, Idle, DiskSleep, Stopped, Tracing, Zombie, Dead, Unknown,
        ] {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
        }
    }
}
