//! Process and host monitoring for the supervisor (`paddock-core`, which calls it from a
//! blocking thread): each session's process tree (CPU, memory, threads, open files, status,
//! terminal), host metrics for the system status, and discovery of the agents running on the
//! machine, whoever started them.
//!
//! # Use
//!
//! One [`Monitor`] per supervisor. [`Monitor::sample_trees`] every sample interval (a second)
//! with the root pid of every session; [`Monitor::find_agents`] every discovery interval;
//! [`Monitor::host`] for the system status; [`classify()`] (pure) to tell which agent a command
//! line runs. All calls are synchronous and cheap enough for one thread (figures below).
//!
//! # How a sample works (Linux)
//!
//! The monitor keeps a table of every process on the machine (pid, parent, start, `comm`)
//! and finds each session's tree in it (root, then children, grandchildren, …).
//! - **New processes.** `/proc/stat` counts every process created since boot; while that
//!   counter does not move, no process appeared and the table is complete. When it moves (at
//!   most once per [`MonitorConfig::rescan_interval`], 1 s), the monitor lists `/proc` and reads
//!   `/proc/<pid>/stat` of the new pids only (and again of processes younger than 5 s, to catch
//!   the `exec` a launcher makes right after it starts). Pids are handed out in increasing
//!   order until they wrap around (`/proc/sys/kernel/ns_last_pid`), so while that does not go
//!   down no pid in the table was reused; when it does, and every 60 s whatever happens, every
//!   process is read again. This kernel has no `/proc/<pid>/task/<tid>/children`
//!   (`CONFIG_PROC_CHILDREN` is off here, as on many distribution kernels), so children are
//!   found from parents.
//! - **Every sample**, one read of `/proc/<pid>/stat` per tree process gives state, parent,
//!   threads, terminal, CPU time and resident memory; a process gone is gone from its tree
//!   on that same sample (an exited but unreaped child stays, as a zombie, until its parent
//!   reaps it; a root that exited is `alive: false` at once, zombie or not).
//! - **Once per process** (and again after it calls `exec`, seen as a new `comm`), sysinfo
//!   reads its command line, executable, working directory and start time.
//! - **Every [`MonitorConfig::details_interval`]** (5 s) the working directory is read again and
//!   the open descriptors counted (`/proc/<pid>/fd`).
//!
//! CPU percent is the CPU time used between two samples over the wall time between them, 100 =
//! one core. Other systems (macOS) go through sysinfo alone: the table is rescanned every
//! `rescan_interval`, CPU and memory come from sysinfo each sample, and threads and terminal are
//! `None`.
//!
//! # Why: what things cost
//!
//! Measured on the development VM (2 vCPUs shared with other builds, Linux 6.18, about 120
//! processes before the test sessions; release build; CPU time of the calling thread).
//! Per process: reading `/proc/<pid>/stat` costs 5.7 µs; a sysinfo 0.36 refresh of listed pids
//! 7.6 µs with CPU and memory and 16 µs with the working directory too (each call lists
//! `/proc` and filters the pid list, and it reads `statm` besides `stat`); counting
//! `/proc/<pid>/fd` 6.6 µs; `readlink` of the cwd 2 µs. Listing `/proc` (700 entries): 0.2 ms.
//!
//! A first version refreshed every tree process through sysinfo every second (CPU, memory,
//! cwd, open files) and re-read every process's `stat` whenever the fork counter had moved:
//! with calls 200 ms apart, 1.6 ms per call with 50 one-process sessions, 25 ms (2.5 % of a
//! core at 1/s) with 200 sessions of
//! 3 processes, over the target. The design above, by `examples/cost.rs` (one call a second,
//! mean of 10, after the sessions are 6 s old; sessions of idle `sleep`s; something forked on
//! this busy machine between most calls; figures vary by ±50 % between runs here):
//!
//! | call | CPU per call | share of one core |
//! |---|---:|---:|
//! | `sample_trees`, 50 sessions × 1 process | 0.4 ms | 0.04 % at 1/s |
//! | `sample_trees`, 200 sessions × 1 process | 1.5 ms | 0.15 % at 1/s |
//! | `sample_trees`, 50 sessions × 3 processes | 1.1 ms | 0.11 % at 1/s |
//! | `sample_trees`, 200 sessions × 3 processes | 7.8 ms | 0.78 % at 1/s |
//! | the same plus `find_agents` every second | 10.4 ms | 1.0 % |
//! | `find_agents`, first call (reads every command line) | 15.8 ms | once |
//! | `find_agents`, steady state (a full read every 10 s) | 1.0 ms | 0.05 % at 1 per 2 s |
//! | `host` | 0.3 ms | 0.03 % at 1/s |
//!
//! The targets (0.5 % of a core with 50 idle sessions, 2 % with 200) hold with room.
//! What remains is per tree process (one `stat` read a sample, about 6 µs with cold caches,
//! plus the 5-second fields); a full read of every process's `stat` (about 4 ms with 700
//! processes) happens only after a pid wrap-around, every 60 s, and every 10 s in
//! `find_agents`.
//!
//! # Side effects
//!
//! [`Monitor::new`] on Linux calls `sysinfo::set_open_files_limit(0)` (process-wide) so that
//! sysinfo keeps no `/proc/<pid>/stat` open between calls. Doing so (as on its first process
//! refresh anyway), sysinfo raises the process's soft `RLIMIT_NOFILE` to the hard limit, which
//! children started afterwards inherit.
#![forbid(unsafe_code)]

pub mod classify;
mod host;
mod monitor;
mod os;
mod types;

pub use classify::{classify, classify_with, glob_match, AgentKind, AgentPattern};
pub use monitor::{Monitor, MonitorConfig, MonitorStats};
pub use types::{AgentProcess, DiskMetrics, HostMetrics, ProcInfo, ProcStatus, TreeSample};
