//! `find_agents` on real processes that look like agents.
#![cfg(target_os = "linux")]

mod common;

use common::{wait_until, Spawned};
use paddock_monitor::{AgentKind, AgentPattern, AgentProcess, Monitor, MonitorConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// A shell script at `dir/rel` (directories made as needed).
fn script(dir: &Path, rel: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&path, body).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn find(m: &mut Monitor, pid: u32) -> Option<AgentProcess> {
    m.find_agents().into_iter().find(|a| a.pid == pid)
}

#[test]
fn find_agents_finds_native_and_node_agents_but_not_their_descendants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = std::fs::canonicalize(dir.path()).expect("canonical");
    let dir = dir.as_path();

    // A native `claude`: a copy of sleep under that name.
    let claude = dir.join("claude");
    std::fs::copy("/bin/sleep", &claude).expect("copy sleep");
    let native = Spawned::command(Command::new(&claude).arg("1000").current_dir(dir));

    // `node …/@anthropic-ai/claude-code/cli.js`: a shell running that file, named `node`
    // through `exec -a`. The file starts a second `claude`: a descendant, not reported.
    let cli = script(
        dir,
        "lib/node_modules/@anthropic-ai/claude-code/cli.js",
        &format!("{} 1000; exit 0\n", claude.display()),
    );
    let node = Spawned::command(
        Command::new("bash")
            .arg("-c")
            .arg(format!("exec -a node sh {}", cli.display())),
    );

    // `python3 ~/.local/bin/aider`.
    let aider = script(dir, "bin/aider", "sleep 1000; exit 0\n");
    let python = Spawned::command(
        Command::new("bash")
            .arg("-c")
            .arg(format!("exec -a python3 sh {} --model x", aider.display())),
    );

    let mut m = Monitor::new(MonitorConfig::default());
    let a = wait_until("the native claude", DEADLINE, || find(&mut m, native.pid()));
    assert_eq!(a.kind, AgentKind::Claude);
    assert_eq!(a.name, "claude");
    assert_eq!(a.ppid, Some(std::process::id()));
    assert_eq!(a.cmd, vec![claude.display().to_string(), "1000".to_owned()]);
    assert_eq!(a.exe.as_deref(), Some(claude.as_path()));
    assert_eq!(a.cwd.as_deref(), Some(dir));
    assert!(a.start_time > 1_600_000_000);

    let n = wait_until("the node claude", DEADLINE, || find(&mut m, node.pid()));
    assert_eq!(n.kind, AgentKind::Claude);
    assert_eq!(n.cmd, vec!["node".to_owned(), cli.display().to_string()]);

    // Its child `claude` runs (it is a descendant) but is not listed.
    // Found in /proc first, then the monitor looks: a look taken before the inner process
    // started could not know it (that was a race in this test, not in the monitor).
    let inner = wait_until("the inner claude to start", DEADLINE, || {
        let inner = std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid: u32 = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == node.pid()).then_some(pid)
        })?;
        let agents = m.find_agents();
        let listed: Vec<u32> = agents.iter().map(|a| a.pid).collect();
        Some((inner, listed))
    });
    assert!(!inner.1.contains(&inner.0), "descendant {} listed", inner.0);
    assert!(m.ancestors(inner.0).contains(&node.pid()));

    let p = wait_until("the python aider", DEADLINE, || find(&mut m, python.pid()));
    assert_eq!(p.kind, AgentKind::Aider);
}

#[test]
fn configured_patterns_find_other_agents() {
    let agent = Spawned::command(
        Command::new("bash")
            .arg("-c")
            .arg("exec -a paddock-test-agent sleep 1000"),
    );
    // The monitor classifies a process once and notices a later `exec` only at its periodic
    // full rescan: look once bash has become the agent, as a user's agent already is.
    wait_until("bash to exec the agent", DEADLINE, || {
        std::fs::read(format!("/proc/{}/cmdline", agent.pid()))
            .ok()
            .filter(|c| c.starts_with(b"paddock-test-agent\0"))
    });
    let mut m = Monitor::new(MonitorConfig {
        agents: vec![AgentPattern {
            name: "testagent".into(),
            pattern: "paddock-test-*".into(),
        }],
        ..MonitorConfig::default()
    });
    let a = wait_until("the configured agent", DEADLINE, || {
        find(&mut m, agent.pid())
    });
    assert_eq!(a.kind, AgentKind::Other("testagent".into()));
    assert_eq!(
        serde_json::to_value(&a).expect("serialize")["kind"],
        "testagent"
    );

    // Without the pattern it is just sleep.
    let mut plain = Monitor::new(MonitorConfig::default());
    assert!(find(&mut plain, agent.pid()).is_none());
}

#[test]
fn a_process_that_execs_into_an_agent_is_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let codex = dir.path().join("codex");
    std::fs::copy("/bin/sleep", &codex).expect("copy sleep");
    let mut shell = Spawned::command(
        Command::new("sh")
            .arg("-c")
            .arg(format!("read l; exec {} 1000", codex.display())),
    );
    let mut m = Monitor::new(MonitorConfig::default());
    assert!(find(&mut m, shell.pid()).is_none());
    shell.send_line("go");
    let a = wait_until("the shell to become codex", DEADLINE, || {
        find(&mut m, shell.pid())
    });
    assert_eq!(a.kind, AgentKind::Codex);
}
