//! Session process trees sampled from real processes: membership, CPU, memory, exit, status.
#![cfg(target_os = "linux")]

mod common;

use common::{signal, wait_until, Spawned};
use nix::sys::signal::Signal;
use paddock_monitor::{Monitor, MonitorConfig, ProcStatus, TreeSample};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

fn monitor() -> Monitor {
    Monitor::new(MonitorConfig {
        // Find new children on the next sample, as fast as the tests want.
        rescan_interval: Duration::ZERO,
        ..MonitorConfig::default()
    })
}

fn sample(m: &mut Monitor, root: u32) -> TreeSample {
    let mut samples = m.sample_trees(&[root]);
    assert_eq!(samples.len(), 1);
    samples.remove(0)
}

fn children_named(s: &TreeSample, name: &str) -> Vec<u32> {
    s.processes
        .iter()
        .skip(1)
        .filter(|p| p.name == name)
        .map(|p| p.pid)
        .collect()
}

fn tree_membership_follows_children_coming_and_going_with(mut m: Monitor) {
    // A shell that starts one `sleep` per line read; its grandchild `sh -c sleep` too.
    let mut root = Spawned::bash("sh -c 'sleep 100; :' & while read l; do sleep 100 & done; wait");
    let pid = root.pid();

    let s = wait_until("the nested shell and its sleep", DEADLINE, || {
        let s = sample(&mut m, pid);
        (s.processes.len() == 3).then_some(s)
    });
    assert!(s.alive);
    assert_eq!(s.processes[0].pid, pid);
    assert_eq!(
        s.processes[1].ppid,
        Some(pid),
        "children come after their parent"
    );

    root.send_line("one");
    root.send_line("two");
    let s = wait_until("two new sleep children", DEADLINE, || {
        let s = sample(&mut m, pid);
        let direct: Vec<u32> = s
            .processes
            .iter()
            .filter(|p| p.ppid == Some(pid) && p.name == "sleep")
            .map(|p| p.pid)
            .collect();
        (direct.len() == 2).then_some(direct)
    });

    signal(s[0], Signal::SIGKILL);
    let after = wait_until("the killed child to leave the tree", DEADLINE, || {
        let t = sample(&mut m, pid);
        (!t.processes.iter().any(|p| p.pid == s[0])).then_some(t)
    });
    assert!(after.processes.iter().any(|p| p.pid == s[1]));
    assert_eq!(after.processes.len(), 4);
    assert!(after.alive);
    // Totals are the sums over the tree.
    let rss: u64 = after.processes.iter().map(|p| p.rss_bytes).sum();
    assert_eq!(after.rss_bytes, rss);
    // The portable backend (macOS) has no thread counts.
    if after.processes.iter().all(|p| p.threads.is_some()) {
        assert!(after.threads >= 4);
    }
    assert!(after.open_files >= 3);
}

#[test]
fn tree_membership_follows_children_coming_and_going() {
    tree_membership_follows_children_coming_and_going_with(monitor());
}

#[test]
fn the_portable_backend_follows_the_tree_too() {
    tree_membership_follows_children_coming_and_going_with(Monitor::new_portable(MonitorConfig {
        rescan_interval: Duration::ZERO,
        ..MonitorConfig::default()
    }));
}

#[test]
fn process_fields_are_filled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Spawned::command(
        std::process::Command::new("sleep")
            .arg("123")
            .current_dir(dir.path()),
    );
    let mut m = monitor();
    let s = sample(&mut m, root.pid());
    let p = &s.processes[0];
    assert_eq!(p.name, "sleep");
    assert_eq!(p.cmd, vec!["sleep".to_owned(), "123".to_owned()]);
    assert_eq!(
        p.exe
            .as_ref()
            .and_then(|e| e.file_name())
            .and_then(|n| n.to_str()),
        Some("sleep")
    );
    let cwd = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    assert_eq!(p.cwd.as_deref(), Some(cwd.as_path()));
    assert_eq!(p.ppid, Some(std::process::id()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    assert!(
        p.start_time <= now + 1 && p.start_time + 60 >= now,
        "{}",
        p.start_time
    );
    assert!(p.rss_bytes > 0);
    assert_eq!(p.threads, Some(1));
    assert!(p.open_files.is_some_and(|n| n >= 3));
    assert!(matches!(
        p.status,
        ProcStatus::Sleeping | ProcStatus::Running
    ));
}

#[test]
fn a_process_on_a_terminal_reports_it() {
    // `script` runs its command on a new pseudo-terminal.
    let root = Spawned::command(
        std::process::Command::new("script")
            .args(["-qfc", "sleep 100", "/dev/null"])
            .stdout(std::process::Stdio::null()),
    );
    let mut m = monitor();
    let tty = wait_until("sleep running on the pty", DEADLINE, || {
        let s = sample(&mut m, root.pid());
        s.processes
            .iter()
            .find(|p| p.name == "sleep")
            .and_then(|p| p.tty.clone())
    });
    assert!(tty.starts_with("/dev/pts/"), "{tty}");
    assert!(std::path::Path::new(&tty).exists());
}

#[test]
fn a_busy_child_shows_more_than_half_a_core() {
    let root = Spawned::sh("while :; do :; done & wait");
    let mut m = monitor();
    let cpu = wait_until("the busy loop above 50 % of a core", DEADLINE, || {
        let s = sample(&mut m, root.pid());
        std::thread::sleep(Duration::from_millis(500));
        let busy = s
            .processes
            .iter()
            .skip(1)
            .map(|p| p.cpu_percent)
            .sum::<f32>();
        (busy > 50.0 && s.cpu_percent >= busy).then_some(busy)
    });
    // One thread cannot use more than one core (plus rounding of the kernel's ticks).
    assert!(cpu <= 115.0, "{cpu}");
}

#[test]
fn rss_grows_when_a_child_allocates() {
    // The python child writes 50 MB (so the pages are resident) once told to, then leaves a
    // marker file (its path is `$0` of the shell).
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("allocated");
    let mut root = Spawned::command(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(
                "python3 -c 'import sys, time
sys.stdin.readline()
b = b\"x\" * (50 * 1024 * 1024)
open(sys.argv[1], \"w\").close()
time.sleep(100)' \"$0\"; :",
            )
            .arg(&marker),
    );
    let mut m = monitor();
    let before = wait_until("python running in the tree", DEADLINE, || {
        let s = sample(&mut m, root.pid());
        s.processes
            .iter()
            .any(|p| p.name.starts_with("python"))
            .then_some(s.rss_bytes)
    });
    root.send_line("go");
    wait_until("python to allocate", DEADLINE, || {
        marker.exists().then_some(())
    });
    let after = sample(&mut m, root.pid()).rss_bytes;
    assert!(
        after >= before + 45 * 1024 * 1024,
        "rss {before} -> {after}"
    );
}

#[test]
fn an_exit_is_noticed_on_the_next_sample() {
    let mut root = Spawned::sh("sleep 100");
    let pid = root.pid();
    let mut m = monitor();
    assert!(sample(&mut m, pid).alive);
    root.kill(); // SIGKILL and reap
    let s = sample(&mut m, pid);
    assert!(!s.alive);
    assert!(s.processes.is_empty());
}

#[test]
fn an_exited_but_unreaped_root_is_not_alive() {
    let root = Spawned::sh("sleep 100");
    let pid = root.pid();
    let mut m = monitor();
    assert!(sample(&mut m, pid).alive);
    signal(pid, Signal::SIGKILL); // not reaped: a zombie until `root` drops
    let s = wait_until("the root to be seen exited", DEADLINE, || {
        let s = sample(&mut m, pid);
        (!s.alive).then_some(s)
    });
    assert!(s.processes.iter().all(|p| p.status == ProcStatus::Zombie));
}

#[test]
fn unknown_roots_are_not_alive() {
    let mut m = monitor();
    // Pids above the kernel's maximum (4194304) never exist.
    let samples = m.sample_trees(&[4_194_305, std::process::id()]);
    assert!(!samples[0].alive);
    assert!(samples[0].processes.is_empty());
    assert!(samples[1].alive);
    assert_eq!(samples[1].root, std::process::id());
}

#[test]
fn a_stopped_process_shows_stopped() {
    let root = Spawned::sh("sleep 100");
    let pid = root.pid();
    let mut m = monitor();
    signal(pid, Signal::SIGSTOP);
    wait_until("status stopped", DEADLINE, || {
        (sample(&mut m, pid).processes[0].status == ProcStatus::Stopped).then_some(())
    });
    signal(pid, Signal::SIGCONT);
    wait_until("status sleeping again", DEADLINE, || {
        (sample(&mut m, pid).processes[0].status == ProcStatus::Sleeping).then_some(())
    });
}

#[test]
fn an_exec_in_place_is_seen_as_the_new_program() {
    let mut root = Spawned::sh("read l; exec sleep 100");
    let pid = root.pid();
    let mut m = monitor();
    let s = sample(&mut m, pid);
    assert_eq!(s.processes[0].name, "sh");
    root.send_line("go");
    let s = wait_until("the root to become sleep", DEADLINE, || {
        let s = sample(&mut m, pid);
        (s.processes[0].name == "sleep").then_some(s)
    });
    assert_eq!(
        s.processes[0].cmd,
        vec!["sleep".to_owned(), "100".to_owned()]
    );
    assert!(children_named(&s, "sleep").is_empty());
}

#[test]
fn host_metrics_are_plausible() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut m = Monitor::new(MonitorConfig {
        data_dir: Some(dir.path().to_owned()),
        ..MonitorConfig::default()
    });
    let first = m.host();
    let h = wait_until("a second reading", DEADLINE, || {
        std::thread::sleep(Duration::from_millis(250));
        Some(m.host())
    });
    for h in [&first, &h] {
        assert!(h.cpus >= 1);
        assert!(h.memory_total_bytes > 0 && h.memory_used_bytes <= h.memory_total_bytes);
        let disk = h.disk.as_ref().expect("the temp dir's filesystem");
        assert!(disk.total_bytes > 0 && disk.used_bytes <= disk.total_bytes);
        assert!(disk.available_bytes <= disk.total_bytes);
        assert!(h.process_count > 5, "{}", h.process_count);
        assert!(h.load_average.iter().all(|l| l.is_finite() && *l >= 0.0));
        assert!(h.uptime_secs > 0);
    }
    assert!((0.0..=100.0).contains(&h.cpu_percent));
    assert!(h.net_rx_bytes >= first.net_rx_bytes);
    assert!(h.net_rx_bytes_per_sec >= 0.0 && h.net_tx_bytes_per_sec.is_finite());
    let json = serde_json::to_value(&h).expect("serialize");
    assert!(json["disk"]["total_bytes"].is_u64());
}
