//! The `paddock` command as a user runs it: real holders, real PTYs, real tmux.

mod common;

use common::*;
use paddock_proto::SessionState;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn session<'a>(ls: &'a [serde_json::Value], id: &str) -> Option<&'a serde_json::Value> {
    ls.iter().find(|s| s["id"] == id)
}

fn pid_alive(pid: i64) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn ls_json_has_exactly_the_documented_fields_and_reports_exit_codes() {
    let env = Env::new();
    let ok = env.run(&["--name", "fine"], &["sh", "-c", "exit 0"]);
    let bad = env.run(&[], &["sh", "-c", "exit 7"]);
    let live = env.run(&["--name", "sleeper"], &["sleep", "600"]);
    wait_until("both short sessions to exit", T, || {
        let ls = env.ls();
        [&ok, &bad]
            .iter()
            .all(|id| session(&ls, id).is_some_and(|s| s["state"] == "exited"))
    });
    let ls = env.ls();
    for s in &ls {
        let mut keys: Vec<_> = s.as_object().expect("object").keys().cloned().collect();
        // `git` (issue 16) is there only when the session's folder is in a git repository,
        // as this test's (the checkout's) usually is; worktree.rs tests its content.
        keys.retain(|k| k != "git");
        keys.sort();
        assert_eq!(
            keys,
            [
                "agent",
                "backend",
                "clients",
                "command",
                "cpu",
                "cwd",
                "exit_code",
                "id",
                "name",
                "paused",
                "pid",
                "rss",
                "since",
                "sources",
                "started_at",
                "state"
            ]
        );
        assert_eq!(s["backend"], "holder");
    }
    assert_eq!(session(&ls, &ok).expect("ok")["exit_code"], 0);
    assert_eq!(session(&ls, &bad).expect("bad")["exit_code"], 7);
    let sleeper = session(&ls, &live).expect("live");
    assert_eq!(
        sleeper["state"], "running",
        "without a supervisor only the process is known"
    );
    assert!(sleeper["exit_code"].is_null());
    assert_eq!(sleeper["name"], "sleeper");
    assert_eq!(sleeper["command"], "sleep 600");

    env.ok(&["kill", "sleeper"]);
    let ls = env.ls();
    let killed = session(&ls, &live).expect("still listed");
    assert_eq!(killed["state"], "exited");
    assert_eq!(
        killed["exit_code"], 137,
        "128 + SIGKILL, as a shell reports it"
    );
    let table = env.ok(&["ls"]);
    assert!(table.contains("exited (137)"), "{table}");
    assert!(table.contains("exited (7)"), "{table}");
}

#[test]
fn the_agent_survives_its_launcher_being_killed_and_its_terminal_closing() {
    let env = Env::new();
    let tmux = Tmux::new(&env);
    // `run --attach` in a tmux pane: the launcher stays in the foreground.
    tmux.type_line(&format!(
        "{PADDOCK} run --name survivor --attach -- sh -c 'echo started; exec sleep 600'"
    ));
    wait_until("the session to start", T, || {
        env.ls()
            .iter()
            .any(|s| s["name"] == "survivor" && is_live(s))
    });
    let ls = env.ls();
    let agent = session_by_name(&ls, "survivor")["pid"]
        .as_i64()
        .expect("pid");
    // kill -9 every paddock process that is not a holder: here, the attached launcher.
    for pid in paddock_pids_except_holders(&env) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    // Then close the terminal it was started from (the pane's shell gets SIGHUP).
    drop(tmux);
    let ls = env.ls();
    let s = session_by_name(&ls, "survivor");
    assert!(is_live(s), "the agent survived: {s}");
    assert_eq!(s["pid"].as_i64(), Some(agent));
    assert!(pid_alive(agent));
    let out = env.ok(&["logs", "survivor"]);
    assert!(out.contains("started"), "{out}");
}

fn session_by_name<'a>(ls: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    ls.iter()
        .find(|s| s["name"] == name)
        .expect("session listed")
}

/// This test's own paddock processes (other tests run in parallel with their own).
fn paddock_pids_except_holders(env: &Env) -> Vec<i32> {
    let marker = format!("PADDOCK_RUNTIME_DIR={}", env.dir().display());
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let ours = environ.split(|&b| b == 0).any(|v| v == marker.as_bytes());
        if ours
            && args.first().is_some_and(|a| *a == PADDOCK.as_bytes())
            && args.get(1).is_some_and(|a| *a != b"__holder")
        {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn attach_shows_the_screen_takes_keys_and_detach_restores_the_terminal() {
    let env = Env::new();
    let id = env.run(
        &["--name", "shell", "--cols", "100", "--rows", "29"],
        &["bash", "--norc", "--noprofile", "-i"],
    );
    let tmux = Tmux::new(&env);
    tmux.type_line("echo BEFORE-ATTACH");
    wait_until("the pane's own output", T, || {
        tmux.capture().contains("BEFORE-ATTACH\n")
    });
    let stty_before = tmux.stty();
    let screen_before = tmux.capture();

    tmux.type_line(&format!("{PADDOCK} attach {id}"));
    wait_until("the session's prompt", T, || {
        !tmux.capture().contains("BEFORE-ATTACH")
    });
    tmux.type_line("echo INSIDE-$((6*7))");
    wait_until("the session's answer", T, || {
        tmux.capture().contains("INSIDE-42")
    });
    // The pane's size reached the session.
    tmux.type_line("stty size");
    wait_until("the attached size", T, || {
        tmux.capture()
            .contains(&format!("{} {}", tmux.rows, tmux.cols))
    });

    tmux.keys(&["C-\\"]);
    wait_until("the detach message", T, || {
        tmux.capture().contains("[paddock] detached from")
    });
    assert_eq!(
        tmux.stty(),
        stty_before,
        "terminal settings restored exactly"
    );
    let after = tmux.capture();
    assert!(
        after.starts_with(screen_before.trim_end()),
        "the screen from before attaching is back:\n{after}"
    );
    assert!(
        !after.contains("INSIDE-42"),
        "the session's screen is gone from the local terminal"
    );

    // Attach again (as from another terminal): the same screen.
    tmux.type_line(&format!("{PADDOCK} attach --read-only shell"));
    wait_until("the same screen again", T, || {
        tmux.capture().contains("INSIDE-42")
    });
    tmux.keys(&["C-\\"]);
    wait_until("detached again", T, || {
        tmux.capture().matches("[paddock] detached").count() == 2
    });
}

#[test]
fn attach_refuses_clearly_when_there_is_no_such_session_or_it_exited() {
    let env = Env::new();
    let out = env.paddock(&["attach", "nope"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("no session `nope`; `paddock ls` lists the sessions"),
        "{}",
        stderr(&out)
    );

    let id = env.run(&[], &["sh", "-c", "exit 2"]);
    wait_until("exit", T, || {
        session(&env.ls(), &id).is_some_and(|s| s["state"] == "exited")
    });
    let out = env.paddock(&["attach", &id]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("has exited with code 2"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("paddock logs"), "{}", stderr(&out));
}

#[test]
fn stale_files_of_dead_holders_are_cleaned_and_never_block_a_new_session() {
    let env = Env::new();
    let id = env.run(&[], &["sleep", "600"]);
    let meta = env.meta(&id);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(meta.holder_pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill holder");
    wait_until("the holder to die", T, || {
        !pid_alive(meta.holder_pid as i64)
    });
    assert!(
        env.socket(&id).exists(),
        "a dead holder leaves its socket behind"
    );
    // A socket nobody listens on, without metadata.
    drop(std::os::unix::net::UnixListener::bind(env.dir().join("orphan1.sock")).expect("bind"));

    let ls = env.ls();
    assert!(
        session(&ls, &id).is_none(),
        "the dead session is not listed"
    );
    assert!(!env.socket(&id).exists() && !env.dir().join(format!("{id}.json")).exists());
    assert!(!env.dir().join("orphan1.sock").exists());
    let again = env.run(&["--name", "fresh"], &["sleep", "600"]);
    assert!(is_live(session(&env.ls(), &again).expect("listed")));
}

#[test]
fn fifty_sessions_run_at_once() {
    let env = Env::new();
    let ids: Vec<String> = (0..50)
        .map(|i| env.run(&["--name", &format!("s{i}")], &["cat"]))
        .collect();
    let ls = env.ls();
    assert_eq!(ls.iter().filter(|s| is_live(s)).count(), 50);
    for (i, id) in ids.iter().enumerate().step_by(7) {
        env.ok(&["send", id, "--enter", &format!("hello {i}")]);
    }
    for (i, id) in ids.iter().enumerate().step_by(7) {
        let want = format!("hello {i}");
        wait_until("the echo", T, || {
            env.ok(&["logs", id]).matches(&want).count() == 2
        });
    }
}

#[test]
fn logs_render_text_and_follow_raw_writes_every_byte_once() {
    let env = Env::new();
    let id = env.run(&["--name", "lg"], &["sh", "-c", "printf '\\033[31mred\\033[0m\\nprogress 1%%\\rprogress 100%%\\n'; read x; seq 1 50000; read y"]);
    wait_until("first output", T, || {
        env.ok(&["logs", "lg"]).contains("progress 100%")
    });
    assert_eq!(env.ok(&["logs", "lg"]), "red\nprogress 100%\n");
    assert_eq!(env.ok(&["logs", "lg", "--lines", "1"]), "progress 100%\n");
    let raw = env
        .cmd()
        .args(["logs", "lg", "--raw"])
        .output()
        .expect("run")
        .stdout;
    assert!(raw.starts_with(b"\x1b[31mred\x1b[0m\r\n"));

    let follower = env
        .cmd()
        .args(["logs", "--follow", "--raw", &id])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    env.ok(&["send", &id, "--enter", "go"]);
    wait_until("the flood to end", T, || {
        env.ok(&["logs", &id]).contains("50000")
    });
    env.ok(&["send", &id, "--enter", "end"]);
    wait_until("exit", T, || {
        session(&env.ls(), &id).is_some_and(|s| s["state"] == "exited")
    });
    let out = follower.wait_with_output().expect("follower");
    assert!(out.status.success());
    let mut expected = b"\x1b[31mred\x1b[0m\r\nprogress 1%\rprogress 100%\r\ngo\r\n".to_vec();
    for i in 1..=50000 {
        expected.extend_from_slice(format!("{i}\r\n").as_bytes());
    }
    expected.extend_from_slice(b"end\r\n");
    assert_eq!(out.stdout.len(), expected.len());
    assert!(out.stdout == expected, "every byte exactly once, in order");
}

#[test]
fn suspend_resume_stop_restart_and_rm() {
    let env = Env::new();
    let cwd = tempfile::tempdir().expect("dir");
    let id = env.run(
        &[
            "--name",
            "ctl",
            "--cwd",
            cwd.path().to_str().expect("utf8"),
            "--env",
            "GREETING=hi there",
        ],
        &["sh", "-c", "echo \"$GREETING from $(pwd)\"; exec sleep 600"],
    );
    let pid = env.meta(&id).pid;
    env.ok(&["suspend", "ctl"]);
    wait_until("stopped", T, || proc_state(pid) == 'T');
    env.ok(&["resume", "ctl"]);
    wait_until("running again", T, || proc_state(pid) == 'S');

    let out = env.paddock(&["rm", "ctl"]);
    assert!(
        !out.status.success(),
        "a running session is not removed without --force"
    );
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));

    let out = env.ok(&["stop", "ctl"]);
    assert!(out.contains("killed by SIGTERM"), "{out}");
    let out = env.paddock(&["send", "ctl", "x"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    env.ok(&["restart", "ctl"]);
    let info = env.meta(&id);
    assert_eq!(info.state, SessionState::Running);
    assert_ne!(info.pid, pid);
    assert_eq!(info.restarts, 1);
    let want = format!(
        "hi there from {}",
        cwd.path().canonicalize().expect("canon").display()
    );
    wait_until("the restarted command's greeting", T, || {
        env.ok(&["logs", "ctl"]).matches(&want).count() == 2
    });

    env.ok(&["rm", "--force", "ctl"]);
    wait_until("files removed", T, || !env.socket(&id).exists());
    assert!(!pid_alive(info.pid as i64));
    assert!(env.ls().is_empty());
}

#[test]
fn an_exited_session_stays_readable_for_the_grace_period_then_goes() {
    let env = Env::new();
    let id = env.run(&["--grace", "2s"], &["sh", "-c", "echo last words"]);
    wait_until("exit", T, || {
        session(&env.ls(), &id).is_some_and(|s| s["state"] == "exited")
    });
    assert_eq!(env.ok(&["logs", &id]), "last words\n");
    wait_until("the grace period to end", T, || !env.socket(&id).exists());
    assert!(env.ls().is_empty());
    // The socket goes first, then the session's other files, a moment later.
    wait_until("no files left behind", T, || {
        std::fs::read_dir(env.dir()).expect("dir").count() == 0
    });
}

#[test]
fn bad_input_on_the_command_line_gets_clear_errors() {
    let env = Env::new();
    let out = env.paddock(&["run", "--cwd", "/does/not/exist", "--", "true"]);
    assert!(
        stderr(&out).contains("the working directory /does/not/exist does not exist"),
        "{}",
        stderr(&out)
    );
    let out = env.paddock(&["run", "--", "no-such-program-xyz"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no-such-program-xyz"),
        "{}",
        stderr(&out)
    );
    let out = env.paddock(&["signal", "x", "USR9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("use one of INT, TERM, KILL, HUP, STOP, CONT"),
        "{}",
        stderr(&out)
    );
    env.run(&["--name", "dup"], &["sleep", "600"]);
    let out = env.paddock(&["run", "--name", "dup", "--", "true"]);
    assert!(
        stderr(&out).contains("a session named `dup` already exists"),
        "{}",
        stderr(&out)
    );
    assert!(
        env.ls().len() == 1,
        "nothing was left behind by the failures"
    );
}

#[test]
fn completions_are_generated_for_bash() {
    let env = Env::new();
    let out = env.ok(&["completions", "bash"]);
    assert!(out.contains("_paddock") && out.contains("attach"));
}

/// A real tmux server on a private socket, with one pane running bash.
struct Tmux {
    socket: String,
    cols: u16,
    rows: u16,
}

impl Tmux {
    fn new(env: &Env) -> Self {
        let socket = format!("pdk-test-{}-{}", std::process::id(), rand_suffix());
        let t = Tmux {
            socket,
            cols: 100,
            rows: 30,
        };
        let status = Command::new("tmux")
            .args(["-L", &t.socket, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30"])
            .arg(format!("env PADDOCK_RUNTIME_DIR={} TERM=xterm-256color PS1='$ ' bash --norc --noprofile -i", env.dir().display()))
            .status()
            .expect("tmux");
        assert!(status.success(), "tmux starts");
        wait_until("the pane's prompt", T, || t.capture().contains('$'));
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux")
    }

    fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", line]);
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    fn stty(&self) -> String {
        let tty = String::from_utf8_lossy(
            &self
                .tmux(&["display", "-p", "-t", "0", "#{pane_tty}"])
                .stdout,
        )
        .trim()
        .to_owned();
        let out = Command::new("stty")
            .args(["-a", "-F", &tty])
            .output()
            .expect("stty");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

#[test]
fn a_hook_without_a_supervisor_exits_at_once_with_no_decision() {
    use std::io::Write;
    let env = Env::new();
    let hook = |input: &[u8]| {
        let mut child = env
            .cmd()
            .args(["hook", "--agent", "claude"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("paddock hook");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write");
        child.wait_with_output().expect("wait")
    };
    let out = hook(br#"{"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"ls"}}"#);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "no decision without a supervisor: {out:?}"
    );
    let out = hook(b"this is not json");
    assert!(out.status.success(), "never fails the agent: {out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not JSON"),
        "{out:?}"
    );
}
