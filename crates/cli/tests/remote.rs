//! `paddock remote` and `paddock --host` from another "machine": a second set of runtime,
//! data and config directories (its own `paddock up`), working the sessions of a host
//! (`paddock up` with its own directories) over pinned HTTPS/WSS as it would local ones:
//! ls, send, logs, show, attach in a real terminal (tmux), and a real Claude Code permission
//! request approved from afar.

#[path = "common/claude.rs"]
mod claude;
mod common;

use common::{wait_until, Env, TmuxServer};
use paddock_fakeapi::agents::ClaudeSandbox;
use paddock_fakeapi::FakeApi;
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

const T: Duration = Duration::from_secs(90);

/// The other machine's `paddock ARGS` (tokens in 0600 files, not this user's keychain).
fn there(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .env("PADDOCK_SECRET_STORE", "file")
        .args(args)
        .output()
        .expect("run paddock")
}

fn there_ok(env: &Env, args: &[&str]) -> String {
    let out = there(env, args);
    assert!(
        out.status.success(),
        "paddock {args:?} failed with {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn offer(host: &Env, role: &str) -> Value {
    serde_json::from_str(&host.ok(&["pair", "--json", "--role", role])).expect("offer")
}

/// `paddock ls --host NAME --json` on the other machine once `pred` holds for some row.
fn wait_remote_row(client: &Env, host: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + T;
    loop {
        let rows: Vec<Value> =
            serde_json::from_str(&there_ok(client, &["ls", "--host", host, "--json"]))
                .expect("json");
        if let Some(r) = rows.iter().find(|r| pred(r)) {
            return r.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; the host lists {rows:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn remote_hosts_are_added_listed_used_and_removed() {
    let host = Env::new();
    let _host_up = host.up();
    let other = Env::new();
    let _other_up = other.up();
    let remote_id = host.run(&["--name", "far"], &["bash", "--norc", "--noprofile", "-i"]);
    let local_id = other.run(&["--name", "near"], &["sleep", "60"]);

    // A wrong fingerprint is refused, and says what to do.
    let o = offer(&host, "operator");
    let (url, fp, code) = (
        o["url"].as_str().expect("url").to_owned(),
        o["fingerprint"].as_str().expect("fp").to_owned(),
        o["code"].as_str().expect("code").to_owned(),
    );
    let out = there(
        &other,
        &[
            "remote",
            "add",
            &code,
            "--url",
            &url,
            "--fingerprint",
            &"ab".repeat(32),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("certificate of"), "{}", stderr(&out));
    // The short code was never sent, so it still pairs.
    let added = there_ok(
        &other,
        &[
            "remote",
            "add",
            &code,
            "--url",
            &url,
            "--fingerprint",
            &fp,
            "--name",
            "box",
        ],
    );
    assert!(added.contains("paired with box"), "{added}");
    let link = offer(&host, "admin")["pair_url"]
        .as_str()
        .expect("link")
        .to_owned();
    there_ok(&other, &["remote", "add", &link, "--name", "box-admin"]);

    let hosts: Vec<Value> =
        serde_json::from_str(&there_ok(&other, &["remote", "ls", "--json"])).expect("json");
    assert_eq!(hosts.len(), 2, "{hosts:#?}");
    assert_eq!(hosts[0]["name"], "box");
    assert_eq!(hosts[0]["role"], "operator");
    assert_eq!(hosts[0]["status"], "online");
    assert_eq!(hosts[0]["fingerprint"], fp.as_str());
    let conf = std::fs::read_to_string(other.dir().join("conf/hosts.json")).expect("hosts.json");
    assert!(!conf.contains("pdr_"), "no token in the hosts list");
    let secrets = std::fs::read_dir(other.dir().join("conf/secrets")).expect("secrets dir");
    for f in secrets.flatten() {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata().expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", f.path().display());
    }
    let table = there_ok(&other, &["remote", "ls"]);
    assert!(
        !table.contains("pdr_") && !table.contains("eyJ"),
        "no token printed: {table}"
    );

    // ls: the host's sessions, not this machine's.
    let row = wait_remote_row(&other, "box", "the host's session", |r| {
        r["id"] == remote_id.as_str()
    });
    assert_eq!(row["name"], "far");
    let rows: Vec<Value> =
        serde_json::from_str(&there_ok(&other, &["ls", "--host", "box", "--json"])).expect("json");
    assert!(rows.iter().all(|r| r["id"] != local_id.as_str()));
    let table = there_ok(&other, &["ls", "--host", "box"]);
    assert!(table.contains("far") && !table.contains("near"), "{table}");

    // send and logs, by name.
    there_ok(
        &other,
        &[
            "send",
            "--host",
            "box",
            "far",
            "--enter",
            "echo REMOTE-$((6*7))",
        ],
    );
    wait_until("the typed command's output in logs --host", T, || {
        there_ok(&other, &["logs", "--host", "box", "far"]).contains("REMOTE-42")
    });
    let raw = there_ok(&other, &["logs", "--host", "box", "far", "--raw"]);
    assert!(raw.contains("REMOTE-42\r\n"), "{raw:?}");
    // message types and submits; logs --follow shows what comes next.
    let mut follow = other
        .cmd()
        .env("PADDOCK_SECRET_STORE", "file")
        .args(["logs", "--host", "box", "far", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("logs --follow");
    let followed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let followed = followed.clone();
        let stdout = follow.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                followed.lock().expect("lock").push_str(&(line + "\n"));
            }
        })
    };
    wait_until("logs --follow printed the history", T, || {
        followed.lock().expect("lock").contains("REMOTE-42")
    });
    there_ok(
        &other,
        &["message", "--host", "box", "far", "echo MSG-$((2*3))"],
    );
    wait_until("the message's output, followed", T, || {
        followed.lock().expect("lock").contains("MSG-6")
    });
    let _ = follow.kill();
    let _ = follow.wait();
    let _ = reader.join();
    let out = there_ok(&other, &["interrupt", "--host", "box", "far"]);
    assert!(out.contains("interrupted far"), "{out}");
    let show: Value = serde_json::from_str(&there_ok(
        &other,
        &["show", "--host", "box", "far", "--json"],
    ))
    .expect("json");
    assert_eq!(show["session"]["id"], remote_id.as_str());

    // Errors say what happened, with the CLI's exit codes.
    let out = there(&other, &["attach", "--host", "box", "nope"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("host box has no session `nope`"),
        "{}",
        stderr(&out)
    );
    let out = there(&other, &["ls", "--host", "elsewhere"]);
    assert!(
        stderr(&out).contains("no known host is called `elsewhere`"),
        "{}",
        stderr(&out)
    );

    // Revoked on the host: the other machine is told to pair again.
    let device = hosts[1]["device_id"].as_str().expect("device id");
    host.ok(&["devices", "revoke", device]);
    let out = there(&other, &["ls", "--host", "box-admin"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no longer accepts this device"),
        "{}",
        stderr(&out)
    );

    let rm = there_ok(&other, &["remote", "rm", "box"]);
    assert!(rm.contains("forgot box"), "{rm}");
    let out = there(&other, &["ls", "--host", "box"]);
    assert!(
        stderr(&out).contains("no known host is called `box`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn attach_over_the_network_types_into_the_remote_session_and_detach_restores_the_terminal() {
    let host = Env::new();
    let _host_up = host.up();
    let other = Env::new();
    let id = host.run(
        &["--name", "shell", "--cols", "90", "--rows", "25"],
        &["bash", "--norc", "--noprofile", "-i"],
    );
    let link = offer(&host, "operator")["pair_url"]
        .as_str()
        .expect("link")
        .to_owned();
    there_ok(&other, &["remote", "add", &link, "--name", "box"]);
    wait_remote_row(&other, "box", "the session", |r| r["id"] == id.as_str());

    // The other machine's terminal: a tmux pane running a shell with its directories.
    let shell = format!(
        "env PADDOCK_RUNTIME_DIR={d} PADDOCK_DATA_DIR={d}/data PADDOCK_CONFIG_DIR={d}/conf PADDOCK_SECRET_STORE=file TERM=xterm-256color PS1='$ ' bash --norc --noprofile -i",
        d = other.dir().display()
    );
    let (tmux, pane) = TmuxServer::start(&other, 100, 30, &shell);
    wait_until("the pane's prompt", T, || tmux.capture(&pane).contains('$'));
    tmux.type_line(&pane, "echo BEFORE-ATTACH");
    wait_until("the pane's own output", T, || {
        tmux.capture(&pane).contains("BEFORE-ATTACH\n")
    });
    let tty = tmux.display(&pane, "#{pane_tty}");
    let stty = || {
        let out = std::process::Command::new("stty")
            .args(["-a", "-F", &tty])
            .output()
            .expect("stty");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stty_before = stty();
    let screen_before = tmux.capture(&pane);

    tmux.type_line(
        &pane,
        &format!("{} attach --host box shell", common::PADDOCK),
    );
    wait_until("the remote session's screen", T, || {
        !tmux.capture(&pane).contains("BEFORE-ATTACH")
    });
    tmux.type_line(&pane, "echo FROM-AFAR-$((6*7))");
    wait_until("the remote session's answer", T, || {
        tmux.capture(&pane).contains("FROM-AFAR-42")
    });
    // The keys reached the host's session: its own output has them.
    wait_until("the host's logs", T, || {
        host.ok(&["logs", &id]).contains("FROM-AFAR-42")
    });
    // The pane's size reached the remote session.
    tmux.type_line(&pane, "stty size");
    wait_until("the attached size", T, || {
        tmux.capture(&pane).contains("30 100")
    });

    tmux.keys(&pane, &["C-\\"]);
    wait_until("the detach message", T, || {
        tmux.capture(&pane).contains("[paddock] detached from")
    });
    // The shell's line editor sets its own settings again once it prompts (bash's readline
    // leaves `lnext` undefined while it reads): wait for the prompt's settings, which are
    // only those of before when the attach put back exactly what it found.
    let deadline = std::time::Instant::now() + T;
    while stty() != stty_before && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stty(), stty_before, "terminal settings restored exactly");
    let after = tmux.capture(&pane);
    assert!(
        after.starts_with(screen_before.trim_end()),
        "the screen from before attaching is back:\n{after}"
    );
    assert!(
        !after.contains("FROM-AFAR-42"),
        "the remote screen is gone:\n{after}"
    );
    // The session still runs on the host.
    let row = wait_remote_row(&other, "box", "the session still listed", |r| {
        r["id"] == id.as_str()
    });
    assert_ne!(row["state"], "exited");
}

#[test]
fn a_real_claude_permission_request_is_approved_from_another_machine() {
    let command = "echo approved-from-another-machine > made.txt";
    let host = Env::new();
    let _host_up = host.up();
    let fake = FakeApi::start(claude::bash_then_text(command, "Done.")).expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    let settings = sandbox.recording_settings();
    let id = claude::run_claude(
        &host,
        &sandbox,
        &["--name", "claude", "--cols", "120", "--rows", "40"],
        &["--permission-mode", "manual", "--settings", &settings],
    );

    let other = Env::new();
    let link = offer(&host, "operator")["pair_url"]
        .as_str()
        .expect("link")
        .to_owned();
    there_ok(&other, &["remote", "add", &link, "--name", "box"]);
    wait_remote_row(&other, "box", "Claude Code ready", |r| {
        r["id"] == id.as_str() && r["state"] == "idle"
    });
    there_ok(
        &other,
        &["message", "--host", "box", "claude", "please make a file"],
    );
    wait_remote_row(&other, "box", "the permission request", |r| {
        r["id"] == id.as_str() && r["state"] == "waiting_permission"
    });
    let pending: Vec<Value> =
        serde_json::from_str(&there_ok(&other, &["approvals", "--host", "box", "--json"]))
            .expect("json");
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!(pending[0]["input"]["command"], command);
    let made = sandbox.project().join("made.txt");
    assert!(!made.exists(), "the tool ran before anyone allowed it");
    let rid = pending[0]["id"].as_str().expect("id").to_owned();
    let out = there_ok(&other, &["approve", "--host", "box", &rid]);
    assert!(out.contains("allowed"), "{out}");
    wait_until("made.txt written by the approved tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-from-another-machine\n")
    });
    // A late answer from afar is refused with the host's reason.
    let late = there(&other, &["deny", "--host", "box", &rid]);
    assert!(!late.status.success());
    assert!(
        stderr(&late).contains("already allowed"),
        "{}",
        stderr(&late)
    );
}
