//! What one process costs, read from `/proc`: CPU times from `/proc/<pid>/stat`, resident
//! memory from `/proc/<pid>/status`, and the machine's count of processes created.

use anyhow::Context;
use std::fs;

/// A `/proc/<pid>/stat` reading: CPU times in clock ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcStat {
    pub(crate) utime: u64,
    pub(crate) stime: u64,
    /// Children that were waited for.
    pub(super) cutime: u64,
    pub(super) cstime: u64,
    pub(super) threads: u64,
}

impl ProcStat {
    pub(crate) fn of(pid: u32) -> anyhow::Result<Self> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("process {pid} is gone"))?;
        Self::parse(&stat).with_context(|| format!("unreadable /proc/{pid}/stat"))
    }

    fn parse(stat: &str) -> Option<Self> {
        // Fields after the command name (which may hold spaces and parentheses): state is
        // field 3, utime 14, stime 15, cutime 16, cstime 17, num_threads 20.
        let (_, rest) = stat.rsplit_once(')')?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let at = |field: usize| f.get(field - 3)?.parse().ok();
        Some(Self {
            utime: at(14)?,
            stime: at(15)?,
            cutime: at(16)?,
            cstime: at(17)?,
            threads: at(20)?,
        })
    }
}

/// Resident memory, in KiB, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    pub(crate) rss: u64,
    pub(crate) hwm: u64,
    pub(crate) anon: u64,
    pub(crate) file: u64,
}

impl Memory {
    pub(crate) fn of(pid: u32) -> anyhow::Result<Self> {
        let status = fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("process {pid} is gone"))?;
        let field = |key: &str| status_kib(&status, key).unwrap_or(0);
        Ok(Self {
            rss: field("VmRSS:"),
            hwm: field("VmHWM:"),
            anon: field("RssAnon:"),
            file: field("RssFile:"),
        })
    }
}

/// The value in KiB of the line `key` (`VmRSS:`) of a `/proc/<pid>/status` text.
pub(crate) fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Processes created since boot, from `/proc/stat`.
pub(super) fn processes_created() -> u64 {
    fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("processes "))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "42 (tokio (a) b) S 1 42 42 0 -1 4194560 900 0 0 0 \
                    17 5 3 2 20 0 4 0 1000 2000000 300 18446744073709551615";
        let s = ProcStat::parse(line).expect("a valid stat line");
        assert_eq!(
            (s.utime, s.stime, s.cutime, s.cstime, s.threads),
            (17, 5, 3, 2, 4)
        );
        assert!(ProcStat::parse("42 (x) S 1").is_none());
        let me = ProcStat::of(std::process::id()).expect("our own stat");
        assert!(me.threads >= 1);
    }
}
