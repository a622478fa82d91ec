//! Tests of the monitor against a scripted platform: what each scan reads, and what it finds.

use super::*;
use crate::os::Command;
use crate::os::Details;
use crate::types::ProcStatus;
use std::path::PathBuf;
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
