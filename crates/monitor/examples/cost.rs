//! What the monitor costs: CPU time per `sample_trees` call with 50 and 200 idle sessions,
//! per `find_agents` call, per `host` call, and of one full scan of the process table.
//!
//! `cargo run --release -p paddock-monitor --example cost` (Linux: the CPU time is the calling
//! thread's, from `/proc/thread-self/schedstat`, so other processes do not count). The figures
//! in the crate documentation come from this program.

use paddock_monitor::{Monitor, MonitorConfig};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// Sessions of idle processes, killed (with their process groups) on drop.
struct Sessions(Vec<Child>);

impl Sessions {
    fn start(count: usize, per_session: usize) -> Self {
        let script = match per_session {
            1 => "exec sleep 1000".to_owned(),
            n => format!("{} wait", "sleep 1000 & ".repeat(n - 1)),
        };
        let children = (0..count)
            .map(|_| {
                Command::new("bash")
                    .arg("-c")
                    .arg(&script)
                    .stdin(Stdio::null())
                    .process_group(0)
                    .spawn()
                    .expect("spawn a session")
            })
            .collect();
        Sessions(children)
    }

    fn roots(&self) -> Vec<u32> {
        self.0.iter().map(Child::id).collect()
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = c.wait();
        }
    }
}

/// Mean CPU time and wall time of `f` over `n` calls spaced by `gap`.
fn measure(n: u32, gap: Duration, mut f: impl FnMut()) -> (Duration, Duration) {
    let (mut cpu, mut wall) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..n {
        std::thread::sleep(gap);
        let (c0, w0) = (thread_cpu(), Instant::now());
        f();
        cpu += thread_cpu().saturating_sub(c0);
        wall += w0.elapsed();
    }
    (cpu / n, wall / n)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // Real time, as the supervisor calls: one call a second, so that table scans (when
    // something forked) and the slower fields (every 5 s) come as often as they would.
    let calls = 10;
    let gap = Duration::from_secs(1);
    let processes = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
                .count()
        })
        .unwrap_or(0);
    println!("machine: {processes} processes before the sessions start");
    println!(
        "{:<44} {:>10} {:>10} {:>14}",
        "call", "cpu ms", "wall ms", "% core at 1/s"
    );
    let row = |what: &str, (cpu, wall): (Duration, Duration)| {
        println!(
            "{what:<44} {:>10.3} {:>10.3} {:>14.3}",
            ms(cpu),
            ms(wall),
            ms(cpu) / 10.0
        );
    };

    for (count, per) in [(50, 1), (200, 1), (50, 3), (200, 3)] {
        let sessions = Sessions::start(count, per);
        let roots = sessions.roots();
        let mut m = Monitor::new(MonitorConfig::default());
        // Until every session has its processes (and the first samples' one-time reads).
        let deadline = Instant::now() + Duration::from_secs(30);
        while m
            .sample_trees(&roots)
            .iter()
            .map(|s| s.processes.len())
            .sum::<usize>()
            < count * per
        {
            assert!(Instant::now() < deadline, "sessions did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        // Idle sessions are older than the 5 s during which new processes are re-read.
        std::thread::sleep(Duration::from_secs(6));
        let before = m.stats();
        let r = measure(calls, gap, || {
            m.sample_trees(&roots);
        });
        row(
            &format!("sample_trees, {count} sessions x {per} process(es)"),
            r,
        );
        let after = m.stats();
        println!(
            "    (table in those {calls} calls: {} full scans, {} incremental)",
            after.table_scans - before.table_scans,
            after.incremental_scans - before.incremental_scans
        );
        let mut eager = Monitor::new(MonitorConfig {
            rescan_interval: Duration::ZERO,
            ..MonitorConfig::default()
        });
        eager.sample_trees(&roots);
        let r = measure(calls, gap, || {
            // A full scan plus the tree sample, as when something forks every second.
            eager.find_agents();
            eager.sample_trees(&roots);
        });
        row("  same + find_agents before each call", r);
        if count == 200 && per == 3 {
            let mut fresh = Monitor::new(MonitorConfig::default());
            row(
                "find_agents, first call (reads every cmdline)",
                measure(1, Duration::ZERO, || {
                    fresh.find_agents();
                }),
            );
            row(
                "find_agents, steady state",
                measure(calls, gap, || {
                    fresh.find_agents();
                }),
            );
            row(
                "host",
                measure(calls, gap, || {
                    fresh.host();
                }),
            );
        }
        drop(sessions);
    }
}
