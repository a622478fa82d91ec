//! tmux bridges: a pane of a real tmux server as a Paddock session (attach, send, logs,
//! signals, exit), mirrored by a holder through pipe-pane and send-keys.

mod common;

use common::*;
use paddock_proto::supervisor::Backend;
use paddock_proto::{SessionState, Size};
use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

/// An interactive shell with a plain prompt, as an agent-like program in a pane.
const SHELL: &str = "env PS1='$ ' bash --norc --noprofile -i";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn bridge(env: &Env, tmux: &TmuxServer, pane: &str) -> String {
    let socket = tmux.socket.to_str().expect("utf8");
    env.ok(&["tmux-attach", "--socket", socket, pane])
        .trim()
        .to_owned()
}

fn state(env: &Env, id: &str) -> Option<String> {
    env.ls()
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["state"].as_str().unwrap_or_default().to_owned())
}

/// A shell pane with something on its screen already.
fn shell_pane(env: &Env) -> (TmuxServer, String) {
    let (tmux, pane) = TmuxServer::start(env, 100, 30, SHELL);
    wait_until("the pane's prompt", T, || tmux.capture(&pane).contains('$'));
    tmux.type_line(&pane, "echo BEFORE-$((40+2))");
    wait_until("the pane's own output", T, || {
        tmux.capture(&pane).contains("BEFORE-42")
    });
    (tmux, pane)
}

#[test]
fn a_bridged_pane_takes_input_and_its_output_reaches_logs_and_followers() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    let id = bridge(&env, &tmux, &pane);
    assert!(id.starts_with("tmux-tmux-sock-"), "{id}");

    let meta = env.meta(&id);
    assert_eq!(meta.backend, Backend::Tmux);
    assert_eq!(meta.state, SessionState::Running);
    assert_eq!(
        meta.size,
        Size {
            cols: 100,
            rows: 30
        }
    );
    assert_eq!(meta.command, "bash");
    assert_eq!(
        meta.pid.to_string(),
        tmux.display(&pane, "#{pane_pid}"),
        "the session's pid is the pane's"
    );
    assert_eq!(
        tmux.display(&pane, "#{pane_pipe}"),
        "1",
        "the bridge pipes the pane"
    );
    let ls = env.ls();
    let row = ls.iter().find(|s| s["id"] == id.as_str()).expect("listed");
    assert!(is_live(row), "{row}");
    if let Some(backend) = row.get("backend") {
        assert_eq!(backend, "tmux");
    }
    assert_eq!(
        env.ok(&["logs", &id]).matches("BEFORE-42").count(),
        1,
        "the screen at bridging time is the session's first output"
    );

    let mut follower = env
        .cmd()
        .args(["logs", "--follow", "--raw", &id])
        .stdout(Stdio::piped())
        .spawn()
        .expect("logs --follow");
    let followed = Arc::new(Mutex::new(Vec::new()));
    let mut out = follower.stdout.take().expect("stdout");
    let sink = followed.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });

    env.ok(&["send", &id, "--enter", "echo SENT-$((6*7))"]);
    wait_until("the sent line's output in the real pane", T, || {
        tmux.capture(&pane).contains("SENT-42")
    });
    wait_until("the same in `paddock logs`", T, || {
        env.ok(&["logs", &id]).contains("SENT-42")
    });
    // Typed in tmux itself, not through Paddock.
    tmux.type_line(&pane, "echo TYPED-IN-TMUX-$((7*7))");
    wait_until("the follower to get the pane's new output", T, || {
        contains(&followed.lock().expect("lock"), b"TYPED-IN-TMUX-49")
    });
    assert!(contains(&followed.lock().expect("lock"), b"SENT-42"));
    let _ = follower.kill();
    let _ = follower.wait();
}

#[test]
fn attach_shows_the_pane_at_once_and_types_into_the_real_pane() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    let id = bridge(&env, &tmux, &pane);
    // The viewer: another session of the same server, a terminal the user attaches from.
    let viewer = tmux.new_session(
        "viewer",
        100,
        30,
        &format!(
            "env PADDOCK_RUNTIME_DIR={} TERM=xterm-256color {SHELL}",
            env.dir().display()
        ),
    );
    wait_until("the viewer's prompt", T, || {
        tmux.capture(&viewer).contains('$')
    });
    tmux.type_line(&viewer, &format!("{PADDOCK} attach {id}"));
    wait_until("the pane's screen in the attached terminal", T, || {
        let screen = tmux.capture(&viewer);
        screen.contains("BEFORE-42") && !screen.contains("attach")
    });
    tmux.type_line(&viewer, "echo VIA-ATTACH-$((6*7))");
    wait_until("the typed line's output in the real pane", T, || {
        tmux.capture(&pane).contains("VIA-ATTACH-42")
    });
    wait_until("and in the attached terminal", T, || {
        tmux.capture(&viewer).contains("VIA-ATTACH-42")
    });
    tmux.keys(&viewer, &["C-\\"]);
    wait_until("the detach message", T, || {
        tmux.capture(&viewer).contains("[paddock] detached from")
    });
    assert_eq!(state(&env, &id).as_deref(), Some("running"));
}

/// The pids of `pid`'s children.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn signal_int_interrupts_the_command_running_in_the_pane() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    let id = bridge(&env, &tmux, &pane);
    let shell = env.meta(&id).pid;
    tmux.type_line(&pane, "sleep 600");
    let sleeping = || children(shell).into_iter().any(|c| comm(c) == "sleep");
    wait_until("sleep to run in the pane", T, sleeping);
    env.ok(&["signal", &id, "INT"]);
    wait_until("sleep to be interrupted", T, || !sleeping());
    tmux.type_line(&pane, "echo STATUS-$?");
    wait_until("the shell to report SIGINT's status", T, || {
        tmux.capture(&pane).contains("STATUS-130")
    });
    assert_eq!(
        state(&env, &id).as_deref(),
        Some("running"),
        "the shell itself lives on"
    );
}

#[test]
fn killing_the_pane_ends_the_session_and_restart_is_refused() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    let id = bridge(&env, &tmux, &pane);
    // A second session keeps the server alive when the pane goes.
    tmux.new_session("other", 80, 24, SHELL);
    tmux.ok(&["kill-pane", "-t", &pane]);
    wait_until("the session to be exited", T, || {
        state(&env, &id).as_deref() == Some("exited")
    });
    let meta = env.meta(&id);
    assert_eq!(
        meta.exit_code, None,
        "tmux keeps no status for a destroyed pane"
    );
    assert!(
        !env.dir().join(format!("{id}.fifo")).exists(),
        "the FIFO is removed"
    );
    assert!(env.ok(&["logs", &id]).contains("BEFORE-42"), "logs stay");

    let out = env.paddock(&["send", &id, "x"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let out = env.paddock(&["restart", &id]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("mirrors a tmux pane") && stderr(&out).contains("restart it in tmux"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_pane_that_remains_after_exit_gives_its_exit_status() {
    let env = Env::new();
    let (tmux, first) = TmuxServer::start(&env, 80, 24, SHELL);
    tmux.ok(&["set", "-g", "remain-on-exit", "on"]);
    let pane = tmux.new_session("agent", 80, 24, "sh -c 'echo ready; read x; exit 3'");
    wait_until("the program's first line", T, || {
        tmux.capture(&pane).contains("ready")
    });
    let id = bridge(&env, &tmux, &pane);
    env.ok(&["send", &id, "--enter", "bye"]);
    wait_until("the session to be exited", T, || {
        state(&env, &id).as_deref() == Some("exited")
    });
    // The status when tmux has recorded it; tmux 3.3a sometimes marks the pane dead without
    // ever reporting a status (seen in about one run in five here), and then the session
    // says it exited without a code rather than inventing one.
    let code = env.meta(&id).exit_code;
    assert!(matches!(code, Some(3) | None), "wrong exit status {code:?}");
    assert_eq!(tmux.display(&pane, "#{pane_dead}"), "1");
    // tmux refuses pipe-pane on a dead pane: the bridge's pipe ends once the respawned
    // program writes (its `cat` dies of SIGPIPE on the FIFO nobody reads).
    tmux.ok(&["respawn-pane", "-t", &pane, "sh -c 'echo again; exec cat'"]);
    wait_until("the respawned pane's pipe to end", T, || {
        tmux.type_line(&pane, "more");
        tmux.display(&pane, "#{pane_pipe}") == "0"
    });
    assert!(
        !env.ok(&["logs", &id]).contains("again"),
        "the exited session does not take the respawned program's output"
    );
    drop(first);
}

#[test]
fn a_piped_pane_is_refused_and_rm_ends_the_bridge_but_not_the_pane() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    tmux.ok(&["pipe-pane", "-t", &pane, "cat > /dev/null"]);
    let socket = tmux.socket.to_str().expect("utf8");
    let out = env.paddock(&["tmux-attach", "--socket", socket, &pane]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already has a pipe")
            && stderr(&out).contains(&format!("pipe-pane -t {pane}")),
        "{}",
        stderr(&out)
    );
    assert!(env.ls().is_empty(), "nothing left behind");
    assert_eq!(
        tmux.display(&pane, "#{pane_pipe}"),
        "1",
        "the other pipe is untouched"
    );

    tmux.ok(&["pipe-pane", "-t", &pane]);
    let id = bridge(&env, &tmux, &pane);
    let out = env.paddock(&["tmux-attach", "--socket", socket, &pane]);
    assert!(stderr(&out).contains("already bridged"), "{}", stderr(&out));
    env.ok(&["rm", &id]);
    wait_until("the session to go", T, || !env.socket(&id).exists());
    assert!(env.ls().is_empty());
    assert_eq!(tmux.display(&pane, "#{pane_dead}"), "0", "the pane runs on");
    assert_eq!(tmux.display(&pane, "#{pane_pipe}"), "0", "its pipe is off");
    assert!(!env.dir().join(format!("{id}.fifo")).exists());
    // And it can be bridged again.
    let again = bridge(&env, &tmux, &pane);
    assert_eq!(again, id);
}

#[test]
fn the_session_follows_the_panes_size() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    let id = bridge(&env, &tmux, &pane);
    tmux.ok(&["resize-window", "-t", "main", "-x", "72", "-y", "20"]);
    wait_until("the pane's new size", T, || {
        tmux.display(&pane, "#{pane_width}x#{pane_height}") == "72x20"
    });
    // `ls` asks the holder for its info, which reads the pane's size.
    wait_until("the session's size to follow", T, || {
        env.ls();
        env.meta(&id).size == Size { cols: 72, rows: 20 }
    });
}

#[test]
fn a_pane_is_bridged_again_after_its_bridge_was_killed() {
    let env = Env::new();
    let (tmux, pane) = shell_pane(&env);
    let id = bridge(&env, &tmux, &pane);
    let holder = env.meta(&id).holder_pid;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the bridge");
    // Listing cleans up the dead holder's files, its FIFO included; its pipe stays on the
    // quiet pane until the next byte.
    wait_until("the dead bridge to be cleaned up", T, || {
        env.ls().is_empty()
    });
    assert_eq!(tmux.display(&pane, "#{pane_pipe}"), "1");
    assert_eq!(bridge(&env, &tmux, &pane), id, "bridged again, same id");
    env.ok(&["send", &id, "--enter", "echo AGAIN-$((6*7))"]);
    wait_until("the new bridge's output", T, || {
        env.ok(&["logs", &id]).contains("AGAIN-42")
    });
}
