//! How the monitor behaves: [`MonitorConfig`], every field with a default.

use crate::classify::AgentPattern;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

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
