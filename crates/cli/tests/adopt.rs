//! `paddock adopt`: a program running in a terminal Paddock does not hold (a PTY made by
//! `script`) is moved into a session with the real reptyr, with a real `paddock up`; and the
//! refusals, each with its reason.
#![cfg(target_os = "linux")]

mod common;

use common::{proc_state, wait_until, Env};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

/// `script -qfc CMD /dev/null`: CMD in a PTY that `script` owns, its screen written to a file,
/// the test's keystrokes fed through a pipe. Killed (with CMD) when dropped.
struct Terminal {
    child: Child,
    keys: ChildStdin,
    screen: PathBuf,
    /// The program `script` started in its PTY.
    program: u32,
}

impl Terminal {
    fn start(env: &Env, name: &str, command: &str) -> Self {
        Self::start_with(env, name, command, &[])
    }

    /// `script` hands COMMAND to the user's `$SHELL -c`; `exec` makes COMMAND itself the
    /// terminal's program whichever shell that is (dash, CI's `/bin/sh`, forks instead).
    fn start_with(env: &Env, name: &str, command: &str, vars: &[(&str, &str)]) -> Self {
        let command = format!("exec {command}");
        Self::spawn(env, name, &["script", "-qfc", &command, "/dev/null"], vars)
    }

    /// CMD in a PTY that Python's `pty.spawn` owns: `reptyr -T` takes its master (it does
    /// not take `script`'s, see docs/design/holder.md).
    fn start_python(env: &Env, name: &str, command: &str) -> Self {
        let emulator = "import pty, sys; pty.spawn(['bash', '-c', sys.argv[1]])";
        Self::spawn(env, name, &["python3", "-c", emulator, command], &[])
    }

    fn spawn(env: &Env, name: &str, argv: &[&str], vars: &[(&str, &str)]) -> Self {
        let screen = env.dir().join(format!("{name}.screen"));
        let out = std::fs::File::create(&screen).expect("screen file");
        let mut child = Command::new(argv[0])
            .args(&argv[1..])
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("the terminal emulator (script or python3) runs");
        let keys = child.stdin.take().expect("stdin");
        let script = child.id();
        let mut program = 0;
        wait_until(
            "the emulator starts its program on a terminal",
            Duration::from_secs(10),
            || {
                let children =
                    std::fs::read_to_string(format!("/proc/{script}/task/{script}/children"))
                        .unwrap_or_default();
                program = children
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                program != 0 && has_terminal(program)
            },
        );
        Self {
            child,
            keys,
            screen,
            program,
        }
    }

    fn screen(&self) -> String {
        std::fs::read_to_string(&self.screen).unwrap_or_default()
    }

    /// The screen as a 120x40 terminal shows it (for full-screen programs).
    fn rendered(&self) -> String {
        let bytes = std::fs::read(&self.screen).unwrap_or_default();
        let size = paddock_proto::Size {
            cols: 120,
            rows: 40,
        };
        paddock_host::text::render(&bytes, size, 200).join("\n")
    }

    fn type_bytes(&mut self, bytes: &[u8]) {
        self.keys.write_all(bytes).expect("type into script");
        self.keys.flush().expect("flush");
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        for pid in [self.program, self.child.id()] {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.wait();
    }
}

fn stat_field(pid: u32, n: usize) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split(' ').nth(n)?.parse().ok()
}

fn has_terminal(pid: u32) -> bool {
    stat_field(pid, 4).is_some_and(|tty| tty != 0)
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn logs(env: &Env, id: &str) -> String {
    String::from_utf8_lossy(&env.paddock(&["logs", id]).stdout).into_owned()
}

const ECHO_LOOP: &str = "bash -c 'while read l; do echo \"got:$l\"; done'";

#[test]
fn a_loop_started_under_script_is_adopted_listed_typed_into_attached_and_stopped() {
    let env = Env::new();
    let _up = env.up();
    let mut old = Terminal::start(&env, "old", ECHO_LOOP);
    let pid = old.program;
    // It answers on its own terminal first.
    old.type_bytes(b"before\n");
    wait_until(
        "the loop answers on its old terminal",
        Duration::from_secs(10),
        || old.screen().contains("got:before"),
    );
    let old_tty = stat_field(pid, 4);

    let id = env.ok(&["adopt", &pid.to_string()]).trim().to_owned();

    // The old terminal says where the program went.
    wait_until(
        "the old terminal names the session",
        Duration::from_secs(10),
        || {
            old.screen()
                .contains(&format!("moved to Paddock session {id}"))
        },
    );
    assert!(
        old.screen().contains(&format!("`paddock attach {id}`")),
        "{}",
        old.screen()
    );
    // The program now runs on another terminal: reptyr's, relayed by the holder.
    assert_ne!(stat_field(pid, 4), old_tty);

    // Listed at once, as the program it is (not as reptyr), with its pid and directory.
    let rows = env.ls();
    let row = rows
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} listed in {rows:?}"));
    assert_eq!(row["pid"], pid, "{row}");
    assert_eq!(
        row["command"], "bash -c 'while read l; do echo \"got:$l\"; done'",
        "{row}"
    );
    assert_eq!(row["name"], "bash", "{row}");
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).expect("cwd");
    assert_eq!(row["cwd"], cwd.display().to_string(), "{row}");
    assert!(common::is_live(row), "{row}");

    // Typed into through Paddock: the echo comes back in the session's logs.
    env.ok(&["send", &id, "--enter", "hello from paddock"]);
    wait_until(
        "the echo reaches `paddock logs`",
        Duration::from_secs(10),
        || logs(&env, &id).contains("got:hello from paddock"),
    );

    // Attached from a terminal (another `script`): what is typed there reaches the program.
    let mut viewer = Terminal::start_with(
        &env,
        "viewer",
        &format!("{} attach {id}", common::PADDOCK),
        &[("PADDOCK_RUNTIME_DIR", &env.dir().display().to_string())],
    );
    wait_until("attach shows the session", Duration::from_secs(10), || {
        viewer.screen().contains("got:hello from paddock")
    });
    viewer.type_bytes(b"typed while attached\r");
    wait_until(
        "the attached terminal shows the answer",
        Duration::from_secs(10),
        || viewer.screen().contains("got:typed while attached"),
    );
    assert!(logs(&env, &id).contains("got:typed while attached"));
    // Ctrl-\ detaches; the program runs on.
    viewer.type_bytes(b"\x1c");
    drop(viewer);

    // Held now: a second adoption is refused and names the session.
    let again = env.paddock(&["adopt", &pid.to_string()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains(&format!("already runs in Paddock session {id}")),
        "{}",
        stderr(&again)
    );

    // Paddock did not start it, so it cannot start it again.
    let restart = env.paddock(&["restart", &id]);
    assert!(!restart.status.success());
    assert!(stderr(&restart).contains("adopted"), "{}", stderr(&restart));

    // Stopping the session ends the adopted program itself.
    env.ok(&["stop", &id]);
    wait_until("the adopted program ends", Duration::from_secs(10), || {
        matches!(proc_state(pid), 'Z' | '?')
    });
    wait_until(
        "the session shows it exited",
        Duration::from_secs(10),
        || {
            env.ls()
                .iter()
                .any(|r| r["id"] == id.as_str() && !common::is_live(r))
        },
    );
}

#[test]
fn refusals_say_why_and_start_nothing() {
    let env = Env::new();
    let refused = |args: &[&str], vars: &[(&str, &str)], says: &str| {
        let out = env
            .cmd()
            .args(args)
            .envs(vars.iter().copied())
            .output()
            .expect("run");
        assert!(!out.status.success(), "{args:?} should be refused");
        assert!(
            stderr(&out).contains(says),
            "{args:?}: {} should say {says}",
            stderr(&out)
        );
    };

    // No such process.
    refused(
        &["adopt", "999999999"],
        &[],
        "there is no process 999999999",
    );

    // reptyr missing from PATH: how to install it.
    let old = Terminal::start(&env, "old", ECHO_LOOP);
    let pid = old.program.to_string();
    let empty = env.dir().join("empty-path");
    std::fs::create_dir(&empty).expect("dir");
    refused(
        &["adopt", &pid],
        &[("PATH", &empty.display().to_string())],
        "apt-get install reptyr",
    );

    // A process without a terminal: a session of its own (`setsid`, which then execs in
    // place: the child is no group leader), no terminal opened.
    let mut quiet = Command::new("setsid")
        .args(["sleep", "600"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("setsid sleep");
    let quiet_pid = quiet.id();
    wait_until(
        "sleep runs in a session of its own",
        Duration::from_secs(10),
        || comm(quiet_pid) == "sleep",
    );
    refused(&["adopt", &quiet_pid.to_string()], &[], "has no terminal");
    let _ = quiet.kill();
    let _ = quiet.wait();

    // A process sharing its group: the others are named.
    let shared = Terminal::start(&env, "shared", "bash -c 'sleep 600 | cat'");
    wait_until("the pipeline runs", Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", shared.program))
            .is_ok_and(|c| c.split_whitespace().count() == 2)
    });
    refused(&["adopt", &shared.program.to_string()], &[], "(sleep)");
    refused(&["adopt", &shared.program.to_string()], &[], "(cat)");

    // Nothing was started, and the old terminal was left alone.
    assert!(env.ls().is_empty(), "{:?}", env.ls());
    assert!(!old.screen().contains("paddock:"), "{}", old.screen());
}

/// The real Claude Code, started offline in a plain terminal, adopted with its whole
/// terminal (it runs helper processes in its process group, so alone it is often refused):
/// the supervisor sees through the relay and recognises the agent.
#[test]
fn a_real_claude_code_in_a_plain_terminal_is_adopted_with_its_terminal_and_recognised() {
    use paddock_fakeapi::agents::{self, ClaudeSandbox};
    use paddock_fakeapi::{FakeApi, Script};
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let fake = FakeApi::start(Script::new()).expect("fake API");
    let sb = ClaudeSandbox::new(&fake.url()).expect("sandbox");
    let env = Env::new();
    let _up = env.up_with(&[("HOME".into(), sb.home().display().to_string())]);
    let mut line = format!(
        "stty cols 120 rows 40; cd '{}' && exec env",
        sb.project().display()
    );
    for k in sb.unset() {
        line.push_str(&format!(" -u {k}"));
    }
    line.push_str(" TERM=xterm-256color");
    for (k, v) in sb.env() {
        line.push_str(&format!(" {k}='{v}'"));
    }
    line.push_str(&format!(" '{}' --permission-mode manual", claude.display()));
    let old = Terminal::start_python(&env, "claude", &line);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while !old.rendered().contains("? for shortcuts") {
        assert!(
            std::time::Instant::now() < deadline,
            "no Claude Code prompt on its terminal within 90 s; it shows:\n{}",
            old.rendered()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = old.program;

    // Alone it may be refused, or not, depending on whether one of its short-lived helpers
    // runs in its process group at that instant (the refusal is tested with a pipeline in
    // `refusals_say_why_and_start_nothing`); its whole terminal always moves.
    let id = env
        .ok(&["adopt", "--whole-terminal", &pid.to_string()])
        .trim()
        .to_owned();
    assert!(
        old.screen()
            .contains(&format!("moved to Paddock session {id}")),
        "{}",
        old.rendered()
    );
    let mut row = serde_json::Value::Null;
    wait_until(
        "the session is recognised as Claude Code",
        Duration::from_secs(30),
        || {
            row = env
                .ls()
                .into_iter()
                .find(|r| r["id"] == id.as_str())
                .unwrap_or_default();
            row["agent"] == "claude"
        },
    );
    assert_eq!(row["pid"], pid, "{row}");
    assert_eq!(row["name"], "claude", "{row}");
    // Typed into through Paddock: the text appears in Claude Code's input box.
    env.ok(&["send", &id, "typed through paddock"]);
    wait_until(
        "the typed text on Claude Code's screen",
        Duration::from_secs(30),
        || logs(&env, &id).contains("typed through paddock"),
    );
    env.ok(&["kill", &id]);
    wait_until("Claude Code ends", Duration::from_secs(10), || {
        matches!(proc_state(pid), 'Z' | '?')
    });
}
