//! The platform on Linux: `/proc` read directly, one small file per process.
//!
//! `/proc/<pid>/stat` gives in one read what sysinfo does not expose (threads, the controlling
//! terminal, the state letter, the parent, `comm`); `/proc/stat` gives the fork counter.
//! Kernels without `CONFIG_PROC_CHILDREN` (this project's CI has none) lack
//! `/proc/<pid>/task/<tid>/children`, so children are found from the parents in the table.

use super::{Command, Details, Platform, ScanEntry};
use crate::types::ProcStatus;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// The `PF_KTHREAD` bit of the flags field of `/proc/<pid>/stat`.
const PF_KTHREAD: u64 = 0x0020_0000;

/// See the module documentation.
pub(crate) struct Linux {
    buf: String,
    /// Clock ticks per second (the unit of CPU times in `stat`).
    ticks_per_sec: u64,
    page_size: u64,
}

impl Default for Linux {
    fn default() -> Self {
        use nix::unistd::{sysconf, SysconfVar};
        let get = |var, default: u64| match sysconf(var) {
            Ok(Some(v)) if v > 0 => v as u64,
            _ => default,
        };
        Self {
            buf: String::new(),
            ticks_per_sec: get(SysconfVar::CLK_TCK, 100),
            page_size: get(SysconfVar::PAGE_SIZE, 4096),
        }
    }
}

/// The fields of `/proc/<pid>/stat` the monitor uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stat {
    pub comm: String,
    pub state: char,
    pub ppid: u32,
    pub tty_nr: u32,
    pub flags: u64,
    pub utime: u64,
    pub stime: u64,
    pub threads: u32,
    pub start_ticks: u64,
    /// Resident pages.
    pub rss_pages: u64,
}

/// Parses `/proc/<pid>/stat`. `comm` may hold spaces and parentheses: it ends at the last `)`.
pub(crate) fn parse_stat(data: &str) -> Option<Stat> {
    let open = data.find('(')?;
    let close = data.rfind(')')?;
    let comm = data.get(open + 1..close)?.to_owned();
    let mut fields = data.get(close + 1..)?.split_ascii_whitespace();
    // Fields after the name, counted from 0: state, ppid, pgrp, session, tty_nr, tpgid, flags,
    // minflt, cminflt, majflt, cmajflt, utime, stime, cutime, cstime, priority, nice,
    // num_threads, itrealvalue, starttime, vsize, rss.
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let mut fields = fields.skip(2);
    let tty_nr = fields.next()?.parse::<i64>().ok()? as u32;
    let mut fields = fields.skip(1);
    let flags = fields.next()?.parse().ok()?;
    let mut fields = fields.skip(4);
    let utime = fields.next()?.parse().ok()?;
    let stime = fields.next()?.parse().ok()?;
    let mut fields = fields.skip(4);
    let threads = fields.next()?.parse().ok()?;
    let start_ticks = fields.nth(1)?.parse().ok()?;
    // vsize, then rss.
    let rss_pages = fields.nth(1)?.parse::<i64>().ok()?.max(0) as u64;
    Some(Stat {
        comm,
        state,
        ppid,
        tty_nr,
        flags,
        utime,
        stime,
        threads,
        start_ticks,
        rss_pages,
    })
}

impl Linux {
    fn read_stat(&mut self, pid: u32) -> Option<Stat> {
        read_into(&format!("/proc/{pid}/stat"), &mut self.buf).ok()?;
        parse_stat(&self.buf)
    }
}

fn read_into(path: &str, buf: &mut String) -> std::io::Result<()> {
    buf.clear();
    File::open(path)?.read_to_string(buf).map(|_| ())
}

impl Platform for Linux {
    fn fork_count(&mut self) -> Option<u64> {
        read_into("/proc/stat", &mut self.buf).ok()?;
        self.buf
            .lines()
            .find_map(|l| l.strip_prefix("processes "))
            .and_then(|n| n.trim().parse().ok())
    }

    fn last_pid(&mut self) -> Option<u64> {
        read_into("/proc/sys/kernel/ns_last_pid", &mut self.buf).ok()?;
        self.buf.trim().parse().ok()
    }

    fn scan(&mut self, _commands: bool, out: &mut Vec<ScanEntry>) {
        out.clear();
        let mut pids = Vec::new();
        if self.pids(&mut pids).is_none() {
            return;
        }
        // Those gone since the listing are skipped.
        out.extend(pids.into_iter().filter_map(|pid| self.entry(pid)));
    }

    fn pids(&mut self, out: &mut Vec<u32>) -> Option<()> {
        out.clear();
        let dir = match fs::read_dir("/proc") {
            Ok(dir) => dir,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list /proc");
                return None;
            }
        };
        out.extend(
            dir.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())),
        );
        Some(())
    }

    fn entry(&mut self, pid: u32) -> Option<ScanEntry> {
        let stat = self.read_stat(pid)?;
        Some(ScanEntry {
            pid,
            ppid: (stat.ppid != 0).then_some(stat.ppid),
            start: stat.start_ticks,
            kernel: stat.flags & PF_KTHREAD != 0 || stat.ppid == 2 || pid == 2,
            comm: stat.comm,
        })
    }

    fn cwd_and_open_files(&mut self, pid: u32) -> Option<(Option<PathBuf>, Option<u32>)> {
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok();
        let fds = fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()
            .and_then(|d| u32::try_from(d.count()).ok());
        Some((cwd, fds))
    }

    fn reads_cpu_and_memory(&self) -> bool {
        true
    }

    fn details(&mut self, pid: u32, _process: Option<&sysinfo::Process>) -> Option<Details> {
        let stat = self.read_stat(pid)?;
        Some(Details {
            ppid: (stat.ppid != 0).then_some(stat.ppid),
            start: stat.start_ticks,
            status: ProcStatus::from_linux_state(stat.state),
            tty: tty_name(pid, stat.tty_nr),
            threads: Some(stat.threads),
            cpu_ms: stat.utime.saturating_add(stat.stime).saturating_mul(1000) / self.ticks_per_sec,
            rss_bytes: stat.rss_pages.saturating_mul(self.page_size),
            comm: stat.comm,
        })
    }

    fn command(&mut self, pid: u32) -> Option<Command> {
        let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmd = split_cmdline(&raw);
        let exe = fs::read_link(format!("/proc/{pid}/exe")).ok();
        Some(Command { cmd, exe })
    }

    fn process_count(&mut self) -> Option<usize> {
        let mut pids = Vec::new();
        self.pids(&mut pids)?;
        Some(pids.len())
    }
}

/// argv from `/proc/<pid>/cmdline`: NUL-separated, usually NUL-terminated.
pub(crate) fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The device path of a controlling terminal, from `tty_nr` of `/proc/<pid>/stat`.
fn tty_name(pid: u32, tty_nr: u32) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        // Unix98 pseudo-terminals.
        136..=143 => Some(format!("/dev/pts/{}", (major - 136) * 256 + minor)),
        4 if minor < 64 => Some(format!("/dev/tty{minor}")),
        4 => Some(format!("/dev/ttyS{}", minor - 64)),
        _ => tty_from_fds(pid, tty_nr),
    }
}

/// Any other terminal: one of the standard descriptors usually points at it.
fn tty_from_fds(pid: u32, tty_nr: u32) -> Option<String> {
    (0..3).find_map(|fd| {
        let target: PathBuf = fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        let meta = fs::metadata(&target).ok()?;
        (target.starts_with("/dev/") && meta.rdev() == u64::from(tty_nr))
            .then(|| target.to_string_lossy().into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name_parses() {
        let line = "4242 (my (weird) name) S 1 4242 4242 34816 4242 4194560 100 0 0 0 \
                    7 3 0 0 20 0 5 0 123456 1000000 250 18446744073709551615 1 1 0 0 0 0 0 \
                    0 0 0 0 0 17 1 0 0 0 0 0";
        let stat = parse_stat(line).expect("parses");
        assert_eq!(stat.comm, "my (weird) name");
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.ppid, 1);
        assert_eq!(stat.tty_nr, 34816);
        assert_eq!(stat.flags, 4194560);
        assert_eq!(stat.threads, 5);
        assert_eq!(stat.start_ticks, 123456);
        assert_eq!((stat.utime, stat.stime), (7, 3));
        assert_eq!(stat.rss_pages, 250);
        assert_eq!(tty_name(4242, stat.tty_nr).as_deref(), Some("/dev/pts/0"));
        assert_eq!(tty_name(1, (136 << 8) | 3).as_deref(), Some("/dev/pts/3"));
        assert_eq!(tty_name(1, (137 << 8) | 2).as_deref(), Some("/dev/pts/258"));
        assert_eq!(tty_name(1, (4 << 8) | 1).as_deref(), Some("/dev/tty1"));
        assert_eq!(tty_name(1, 0), None);
    }

    #[test]
    fn own_stat_matches_std() {
        let mut linux = Linux::default();
        let me = std::process::id();
        let stat = linux.read_stat(me).expect("own stat");
        assert!(matches!(stat.state, 'R' | 'S'), "{}", stat.state);
        assert!(stat.threads >= 1);
        assert!(linux.fork_count().is_some_and(|n| n > 0));
        assert!(linux.last_pid().is_some_and(|n| n > 0));
        let (cwd, fds) = linux.cwd_and_open_files(me).expect("linux reads them");
        assert_eq!(cwd, std::env::current_dir().ok());
        assert!(fds.is_some_and(|n| n >= 3));
        let cmd = linux.command(me).expect("own cmdline");
        assert!(!cmd.cmd.is_empty());
        assert_eq!(cmd.exe, std::env::current_exe().ok());
    }

    #[test]
    fn cmdline_splits_on_nul() {
        assert_eq!(split_cmdline(b"a\0b c\0"), vec!["a", "b c"]);
        assert_eq!(split_cmdline(b"a b c"), vec!["a b c"]);
        assert!(split_cmdline(b"").is_empty());
        assert_eq!(split_cmdline(b"a\0\0b\0"), vec!["a", "", "b"]);
    }
}
