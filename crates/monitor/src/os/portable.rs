//! The platform through sysinfo alone: macOS and anything that is not Linux.
//!
//! No fork counter (so new children are found by rescanning every
//! [`MonitorConfig::rescan_interval`](crate::MonitorConfig::rescan_interval)), no thread
//! count, no terminal.

use super::{lossy_args, Command, Details, Platform, ScanEntry};
use std::path::PathBuf;
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind};

/// See the module documentation.
#[derive(Default)]
pub(crate) struct Portable {
    table: System,
}

impl Platform for Portable {
    fn fork_count(&mut self) -> Option<u64> {
        None
    }

    fn last_pid(&mut self) -> Option<u64> {
        None
    }

    fn pids(&mut self, _out: &mut Vec<u32>) -> Option<()> {
        None
    }

    fn entry(&mut self, _pid: u32) -> Option<ScanEntry> {
        None
    }

    fn cwd_and_open_files(&mut self, _pid: u32) -> Option<(Option<PathBuf>, Option<u32>)> {
        None
    }

    fn scan(&mut self, commands: bool, out: &mut Vec<ScanEntry>) {
        let mut kind = ProcessRefreshKind::nothing().without_tasks();
        if commands {
            kind = kind
                .with_cmd(UpdateKind::OnlyIfNotSet)
                .with_exe(UpdateKind::OnlyIfNotSet);
        }
        self.table
            .refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        out.clear();
        out.extend(
            self.table
                .processes()
                .values()
                .filter(|p| p.thread_kind() != Some(ThreadKind::Userland))
                .map(|p| ScanEntry {
                    pid: p.pid().as_u32(),
                    ppid: p.parent().map(|pp| pp.as_u32()),
                    start: p.start_time(),
                    comm: p.name().to_string_lossy().into_owned(),
                    kernel: p.thread_kind() == Some(ThreadKind::Kernel),
                }),
        );
    }

    fn reads_cpu_and_memory(&self) -> bool {
        false
    }

    fn details(&mut self, _pid: u32, process: Option<&sysinfo::Process>) -> Option<Details> {
        let p = process.filter(|p| p.exists())?;
        Some(Details {
            ppid: p.parent().map(|pp| pp.as_u32()),
            start: p.start_time(),
            comm: p.name().to_string_lossy().into_owned(),
            status: p.status().into(),
            tty: None,
            threads: None,
            cpu_ms: p.accumulated_cpu_time(),
            rss_bytes: p.memory(),
        })
    }

    fn command(&mut self, pid: u32) -> Option<Command> {
        let p = self.table.process(sysinfo::Pid::from_u32(pid))?;
        Some(Command {
            cmd: lossy_args(p.cmd()),
            exe: p.exe().map(ToOwned::to_owned),
        })
    }

    fn process_count(&mut self) -> Option<usize> {
        None
    }
}
