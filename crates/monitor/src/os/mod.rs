//! The operating system seam: reading the process table and what sysinfo does not give.
//!
//! [`Platform`] has two implementations: [`linux::Linux`], which reads `/proc` directly (the
//! cheap path the cost figures in the crate documentation were measured on), and
//! [`portable::Portable`], which asks sysinfo for everything and leaves the Linux-only fields
//! (`threads`, `tty`, the fork counter) empty. The portable one is compiled everywhere, so the
//! Linux tests exercise it too; [`native`] picks the right one for the target.

use crate::types::ProcStatus;
use std::path::PathBuf;

#[cfg(target_os = "linux")]
pub(crate) mod linux;
pub(crate) mod portable;

/// One row of the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScanEntry {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// When the process started, in a unit private to the platform: (pid, start) names one
    /// process even when pids are reused.
    pub start: u64,
    /// The OS's short name; it changes when the process calls `exec`.
    pub comm: String,
    /// A kernel thread (never an agent, never in a session).
    pub kernel: bool,
}

/// What the monitor needs about one process each sample beyond sysinfo's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Details {
    pub ppid: Option<u32>,
    pub start: u64,
    pub comm: String,
    pub status: ProcStatus,
    pub tty: Option<String>,
    pub threads: Option<u32>,
    /// CPU time used so far (user + system), in milliseconds.
    pub cpu_ms: u64,
    /// Resident memory.
    pub rss_bytes: u64,
}

/// A process's command line and executable, for classification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Command {
    pub cmd: Vec<String>,
    pub exe: Option<PathBuf>,
}

/// The operating system, as the monitor sees it.
pub(crate) trait Platform: Send {
    /// How many processes the machine has created since boot (Linux: `processes` in
    /// `/proc/stat`); `None` where unknown. While it does not move, no process appeared.
    fn fork_count(&mut self) -> Option<u64>;
    /// The pid most recently handed out (Linux: `/proc/sys/kernel/ns_last_pid`); `None` where
    /// unknown. Pids are handed out in increasing order until they wrap around, so while it
    /// does not go down, no pid in the table can have been reused.
    fn last_pid(&mut self) -> Option<u64>;
    /// Every process on the machine. `commands`: the caller will ask [`Platform::command`]
    /// for many of them next.
    fn scan(&mut self, commands: bool, out: &mut Vec<ScanEntry>);
    /// The pids of every process, without reading anything about them; `None` where that is
    /// not cheaper than [`Platform::scan`].
    fn pids(&mut self, out: &mut Vec<u32>) -> Option<()>;
    /// One row of the table (after [`Platform::pids`] listed it).
    fn entry(&mut self, pid: u32) -> Option<ScanEntry>;
    /// Whether [`Platform::details`] reads CPU time and memory itself. If not, the caller
    /// refreshes sysinfo's CPU time and memory of every process before asking.
    fn reads_cpu_and_memory(&self) -> bool;
    /// One process's details, or `None` if it no longer exists. `process` is sysinfo's view of
    /// it (the portable implementation reads everything from it).
    fn details(&mut self, pid: u32, process: Option<&sysinfo::Process>) -> Option<Details>;
    /// A process's working directory and open descriptor count, if this platform reads them
    /// more cheaply than sysinfo (`None`: ask sysinfo).
    fn cwd_and_open_files(&mut self, pid: u32) -> Option<(Option<PathBuf>, Option<u32>)>;
    /// A process's command line and executable (after [`Platform::scan`]).
    fn command(&mut self, pid: u32) -> Option<Command>;
    /// How many processes the machine has now, if cheaply known.
    fn process_count(&mut self) -> Option<usize>;
}

/// The platform for this target.
pub(crate) fn native() -> Box<dyn Platform> {
    #[cfg(target_os = "linux")]
    {
        Box::new(linux::Linux::default())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Box::new(portable::Portable::default())
    }
}

/// Lossy UTF-8 of every argument.
pub(crate) fn lossy_args(args: &[std::ffi::OsString]) -> Vec<String> {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}
