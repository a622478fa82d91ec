//! `paddock up` and friends: the supervisor finds sessions, survives `kill -9`, and is alone.

mod common;

use common::*;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);

fn status(env: &Env) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["status", "--json"])).expect("status json")
}

#[test]
fn up_runs_on_embedded_defaults_and_a_second_one_says_where_the_first_is() {
    let env = Env::new();
    let sup = env.up();
    let st = status(&env);
    assert_eq!(st["running"], true);
    assert_eq!(st["pid"], sup.pid());
    assert_eq!(st["health"], "healthy");
    // The build it is: the commit `paddock`'s build recorded and handed to the supervisor
    // (absent only in a build made outside a git checkout).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) => assert_eq!(st["commit"], head.as_str(), "{st:#}"),
        None => assert!(st["commit"].is_null(), "{st:#}"),
    }
    assert!(
        env.dir().join("data/logs/paddock.log").exists(),
        "logs in the data dir"
    );

    let out = env.paddock(&["up"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "a supervisor is already running (pid {},",
            sup.pid()
        )),
        "{err}"
    );
    assert!(err.contains("_supervisor.sock"), "{err}");
}

#[test]
fn the_supervisor_lists_every_holder_with_the_supervisor_fields() {
    let env = Env::new();
    let _sup = env.up();
    let a = env.run(&["--name", "a"], &["sleep", "600"]);
    wait_until("the new holder to be adopted", T, || {
        env.ls()
            .iter()
            .any(|s| s["id"] == a.as_str() && s["backend"] == "holder")
    });
    env.ok(&["kill", "a"]);
    wait_until("its exit to reach the supervisor", T, || {
        env.ls()
            .iter()
            .any(|s| s["id"] == a.as_str() && s["state"] == "exited" && s["exit_code"] == 137)
    });
    assert_eq!(status(&env)["holders"], 1);
}

#[test]
fn killing_the_supervisor_loses_nothing_and_a_restart_readopts_every_session_within_a_second() {
    let env = Env::new();
    let sup = env.up();
    let ids: Vec<String> = (0..20)
        .map(|i| env.run(&["--name", &format!("s{i}")], &["sleep", "600"]))
        .collect();
    wait_until("all adopted", T, || status(&env)["holders"] == 20);
    let pids: Vec<u32> = ids.iter().map(|id| env.meta(id).pid).collect();
    sup.kill9();
    for pid in &pids {
        assert!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid as i32), None).is_ok(),
            "agent {pid} survived"
        );
    }
    let started = Instant::now();
    let _sup = env.up();
    wait_until("every session re-adopted", T, || {
        status(&env)["holders"] == 20
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "re-adoption took {took:?}");
    let ls = env.ls();
    for id in &ids {
        assert!(
            ls.iter().any(|s| s["id"] == id.as_str() && is_live(s)),
            "{id} is back with the same id"
        );
    }
}

#[test]
fn status_without_a_supervisor_says_how_to_start_one() {
    let env = Env::new();
    assert!(env.ok(&["status"]).contains("`paddock up`"));
    assert_eq!(status(&env)["running"], false);
}

#[test]
fn default_config_is_a_valid_config() {
    let env = Env::new();
    let text = env.ok(&["default-config"]);
    std::fs::create_dir_all(env.dir().join("conf")).expect("mkdir");
    std::fs::write(env.dir().join("conf/config.toml"), &text).expect("write");
    let _sup = env.up();
    std::fs::write(env.dir().join("conf/config.toml"), "sample_intervall = 1").expect("write");
    let out = env.paddock(&[
        "up",
        "--config",
        env.dir().join("conf/config.toml").to_str().expect("utf8"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sample_intervall") && err.contains("default-config"),
        "{err}"
    );
}

#[test]
fn service_install_writes_a_systemd_unit_that_systemd_accepts() {
    let env = Env::new();
    let home = env.dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = env
        .cmd()
        .args(["service", "install", "--no-start"])
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unit_path = home.join(".config/systemd/user/paddock.service");
    let unit = std::fs::read_to_string(&unit_path).expect("unit written");
    assert!(unit.contains(&format!("ExecStart={PADDOCK} up")), "{unit}");
    assert!(
        unit.contains("KillMode=process"),
        "stopping the service must spare the agents"
    );

    let verify = |path: &std::path::Path| {
        std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(path)
            .output()
    };
    match verify(&unit_path) {
        Ok(out) => {
            assert!(
                out.status.success(),
                "systemd-analyze verify: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The check is real: a broken unit is refused.
            let broken = home.join("broken.service");
            std::fs::write(
                &broken,
                unit.replace(
                    &format!("ExecStart={PADDOCK} up"),
                    "ExecStart=relative/path up",
                ),
            )
            .expect("write");
            assert!(!verify(&broken).expect("verify").status.success());
        }
        Err(_) => eprintln!("systemd-analyze is not installed; checked the unit's content only"),
    }

    let out = env
        .cmd()
        .args(["service", "uninstall"])
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("removed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!unit_path.exists());
}

/// A copy of `sleep` named `claude`: looks like the agent to discovery, costs nothing.
fn fake_claude(env: &Env) -> std::path::PathBuf {
    let bin = env.dir().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let claude = bin.join("claude");
    std::fs::copy("/bin/sleep", &claude).expect("copy sleep");
    claude
}

fn find_by_pid(env: &Env, pid: u32) -> Option<serde_json::Value> {
    env.ls().into_iter().find(|s| s["pid"] == pid)
}

#[test]
fn an_agent_in_a_tmux_pane_and_one_in_a_bare_terminal_are_listed_with_pid_cwd_cpu_and_memory() {
    let env = Env::new();
    let claude = fake_claude(&env);
    let work = tempfile::tempdir().expect("cwd");
    let _sup = env.up();

    // In tmux, on a server of its own.
    let server = format!("pdk-disc-{}", std::process::id());
    let status = std::process::Command::new("tmux")
        .env("TMUX_TMPDIR", env.dir())
        .args(["-L", &server, "-f", "/dev/null", "new-session", "-d", "-c"])
        .arg(work.path())
        .arg(format!("{} 900", claude.display()))
        .status()
        .expect("tmux");
    assert!(status.success());
    struct KillServer(String, std::path::PathBuf);
    impl Drop for KillServer {
        fn drop(&mut self) {
            let _ = std::process::Command::new("tmux")
                .env("TMUX_TMPDIR", &self.1)
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    let _tmux = KillServer(server.clone(), env.dir().to_owned());
    let pane_pid: u32 = String::from_utf8_lossy(
        &std::process::Command::new("tmux")
            .env("TMUX_TMPDIR", env.dir())
            .args(["-L", &server, "display", "-p", "#{pane_pid}"])
            .output()
            .expect("tmux")
            .stdout,
    )
    .trim()
    .parse()
    .expect("pane pid");

    // In a bare terminal: its own session, not under tmux or a holder.
    let mut bare = std::process::Command::new(&claude)
        .arg("901")
        .current_dir(work.path())
        .process_group(0)
        .spawn()
        .expect("bare agent");
    let bare_pid = bare.id();

    // A pane created between two looks at tmux can first be seen as a bare process; the next
    // discovery round puts it right.
    wait_until("both agents discovered and sampled", T, || {
        find_by_pid(&env, pane_pid).is_some_and(|s| !s["rss"].is_null() && s["backend"] == "tmux")
            && find_by_pid(&env, bare_pid).is_some_and(|s| !s["rss"].is_null())
    });
    let cwd = work
        .path()
        .canonicalize()
        .expect("canon")
        .display()
        .to_string();
    let in_tmux = find_by_pid(&env, pane_pid).expect("tmux agent");
    assert_eq!(in_tmux["backend"], "tmux");
    assert_eq!(in_tmux["agent"], "claude");
    assert_eq!(in_tmux["cwd"], cwd.as_str());
    assert!(in_tmux["rss"].as_u64().expect("rss") > 100_000, "{in_tmux}");
    assert!(in_tmux["cpu"].as_f64().is_some());
    let outside = find_by_pid(&env, bare_pid).expect("bare agent");
    assert_eq!(outside["backend"], "external");
    // Its terminal is out of reach and it has no status file: all that is known is that it
    // runs (not a guessed idle, not a starting that never ends).
    assert_eq!(outside["state"], "running", "{outside}");
    assert_eq!(outside["cwd"], cwd.as_str());
    assert!(outside["rss"].as_u64().expect("rss") > 100_000);

    // An external session is controlled by signals; its terminal is plainly out of reach.
    let id = outside["id"].as_str().expect("id").to_owned();
    env.ok(&["suspend", &id]);
    wait_until("stopped", T, || proc_state(bare_pid) == 'T');
    // The supervisor sees it stopped (whoever stopped it) and says so.
    wait_until("listed as paused", T, || {
        find_by_pid(&env, bare_pid).is_some_and(|s| s["paused"] == true)
    });
    env.ok(&["resume", &id]);
    wait_until("running again", T, || proc_state(bare_pid) == 'S');
    wait_until("no longer paused", T, || {
        find_by_pid(&env, bare_pid).is_some_and(|s| s["paused"] == false)
    });
    let out = env.paddock(&["send", &id, "hello"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not hold (external)"));
    env.ok(&["kill", &id]);
    let _ = bare.wait();
    wait_until("the killed external agent to leave the list", T, || {
        find_by_pid(&env, bare_pid).is_none()
    });
}

#[test]
fn the_history_of_every_transcript_is_indexed_and_searchable() {
    let env = Env::new();
    let home = tempfile::tempdir().expect("home");
    let project = home.path().join(".claude/projects/-home-dev-app");
    std::fs::create_dir_all(&project).expect("projects");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../agents/tests/data/claude-transcript-2.1.328.jsonl"
        ),
        project.join("e8c436b3-3564-4f9e-8905-a44d5422124f.jsonl"),
    )
    .expect("copy the sample transcript");
    let _sup = env.up_with(&[("HOME".into(), home.path().display().to_string())]);
    let mut sessions = Vec::new();
    wait_until("the sample transcript in the history", T, || {
        sessions = serde_json::from_str::<Vec<serde_json::Value>>(&env.ok(&["history", "--json"]))
            .expect("JSON");
        !sessions.is_empty()
    });
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let s = &sessions[0];
    assert_eq!(s["agent"], "claude");
    assert_eq!(s["cwd"], "/home/dev/app");
    // The id the records carry (the sample's file was renamed when it was collected).
    assert_eq!(s["session_id"], "63a89093-4ee6-447d-b5e0-c1488233b86a");
    assert!(s["prompts"].as_u64().is_some_and(|p| p >= 1), "{s}");
    let hits: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["history", "--json", "file"])).expect("JSON");
    assert!(
        hits.iter().any(|h| h["role"] == "user"
            && h["snippet"]
                .as_str()
                .is_some_and(|t| t.contains("\u{2}file\u{3}"))),
        "{hits:#?}"
    );
    let none: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["history", "--json", "zebracorn"])).expect("JSON");
    assert!(none.is_empty());
}

#[test]
fn a_plain_program_works_while_it_prints_waits_at_its_question_and_idles_when_quiet() {
    let env = Env::new();
    let _sup = env.up();
    let id = env.run(
        &["--name", "plain"],
        &[
            "sh",
            "-c",
            "echo starting; sleep 1; printf 'Overwrite the file? [y/N] '; read a; echo got-$a; sleep 600",
        ],
    );
    let state = |env: &Env| {
        env.ls()
            .into_iter()
            .find(|r| r["id"] == id.as_str())
            .map(|r| r["state"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    wait_until("waiting at its question", T, || {
        state(&env) == "waiting_input"
    });
    env.ok(&["send", &id, "--enter", "y"]);
    wait_until("working after the answer", T, || state(&env) == "working");
    wait_until("idle once quiet", T, || state(&env) == "idle");
    let row = env
        .ls()
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .expect("listed");
    assert_eq!(row["sources"][0], "output", "{row}");
}

/// A session's `ls --json` row, if listed.
fn row_of(env: &Env, id: &str) -> Option<serde_json::Value> {
    env.ls().into_iter().find(|r| r["id"] == id)
}

fn state_of(env: &Env, id: &str) -> String {
    row_of(env, id)
        .and_then(|r| r["state"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Seconds between two RFC 3339 times of an `ls --json` row.
fn seconds_between(row: &serde_json::Value, from: &str, to: &str) -> f64 {
    let at = |field: &str| {
        humantime::parse_rfc3339_weak(row[field].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{field} is not a time ({e}): {row}"))
    };
    at(to)
        .duration_since(at(from))
        .map_or(0.0, |d| d.as_secs_f64())
}

#[test]
fn every_session_started_while_the_supervisor_runs_is_in_the_very_next_ls() {
    let env = Env::new();
    let _sup = env.up();
    for i in 0..5 {
        let id = env.run(&["--name", &format!("n{i}")], &["sleep", "600"]);
        let row = row_of(&env, &id);
        assert!(
            row.as_ref().is_some_and(|r| r["backend"] == "holder"),
            "run {i}: {id} is missing from the ls right after `paddock run`: {:?}",
            env.ls()
        );
    }
    let (tmux, pane) = TmuxServer::start(&env, 80, 24, "sleep 600");
    let socket = tmux.socket.to_str().expect("utf8");
    let id = env
        .ok(&["tmux-attach", "--socket", socket, &pane])
        .trim()
        .to_owned();
    assert!(
        row_of(&env, &id).is_some_and(|r| r["backend"] == "tmux"),
        "the bridge {id} is missing from the ls right after `paddock tmux-attach`"
    );
}

#[test]
fn a_program_that_printed_then_went_quiet_or_never_printed_is_idle_within_three_seconds() {
    let env = Env::new();
    let _sup = env.up();
    let printed = env.run(
        &["--name", "printed"],
        &["bash", "-c", "echo hi; sleep 100"],
    );
    let silent = env.run(&["--name", "silent"], &["sleep", "50"]);
    for id in [&printed, &silent] {
        wait_until(&format!("{id} idle"), T, || state_of(&env, id) == "idle");
        let row = row_of(&env, id).expect("listed");
        assert_eq!(row["sources"][0], "output", "{row}");
        // `since` is when the supervisor decided idle; `started_at` is whole seconds, so up
        // to a second early: 3 s after the start (or the last output) is at most 4 s here.
        let took = seconds_between(&row, "started_at", "since");
        assert!(
            took <= 4.5,
            "{id} left starting/working {took:.1} s after it started: {row}"
        );
    }
}

#[test]
fn sessions_quiet_before_the_supervisor_came_are_running_without_it_and_idle_once_adopted() {
    let env = Env::new();
    let printed = env.run(
        &["--name", "printed"],
        &["bash", "-c", "echo hi; sleep 100"],
    );
    let silent = env.run(&["--name", "silent"], &["sleep", "100"]);
    let asking = env.run(
        &["--name", "asking"],
        &[
            "sh",
            "-c",
            "printf 'Overwrite the file? [y/N] '; read a; sleep 100",
        ],
    );
    let started = Instant::now();
    // Without the supervisor: what is known is that they run.
    for id in [&printed, &silent, &asking] {
        assert_eq!(state_of(&env, id), "running");
    }
    let table = env.ok(&["ls"]);
    assert!(
        table.contains("running") && !table.contains("starting"),
        "{table}"
    );
    // Both go quiet for longer than the working window before any supervisor sees them.
    std::thread::sleep(Duration::from_millis(3500).saturating_sub(started.elapsed()));
    let sup = env.up();
    wait_until("all adopted", T, || status(&env)["holders"] == 3);
    let settled = |env: &Env| {
        for id in [&printed, &silent] {
            assert_eq!(state_of(env, id), "idle", "{:?}", row_of(env, id));
        }
        // Its question was printed before the supervisor came, and counts: the first look
        // at its screen (a moment after it is listed) finds it waiting.
        wait_until("the question seen", Duration::from_secs(2), || {
            let state = state_of(env, &asking);
            assert!(
                matches!(state.as_str(), "idle" | "waiting_input"),
                "{:?}",
                row_of(env, &asking)
            );
            state == "waiting_input"
        });
    };
    settled(&env);
    // The same after a restart of the supervisor: re-adopted idle, not starting again.
    sup.kill9();
    let _sup = env.up();
    wait_until("all re-adopted", T, || status(&env)["holders"] == 3);
    settled(&env);
}

#[test]
fn a_message_is_submitted_to_a_program_that_takes_it_and_unknown_when_nothing_shows_it_did() {
    let env = Env::new();
    let _sup = env.up();
    let reader = env.run(&["--name", "reader"], &["cat"]);
    let out = env.ok(&["message", &reader, "hello reader"]);
    assert!(out.starts_with("submitted: "), "{out}");
    // A program that neither echoes nor reads: nothing shows that it took the text.
    let deaf = env.run(&["--name", "deaf"], &["sh", "-c", "stty -echo; sleep 600"]);
    let started = Instant::now();
    let out = env.paddock(&["message", "--timeout", "1.5", &deaf, "hello deaf"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("unknown")
            && err.contains("within 1.5 s")
            && err.contains("never showed")
            && err.contains("paddock attach deaf"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the wait given was not kept: {:?}",
        started.elapsed()
    );
    let bad = env.paddock(&["message", "--timeout", "0", &deaf, "hello"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("1 to 60000 ms"),
        "{err}"
    );
}

#[test]
fn a_message_to_a_session_that_has_exited_is_refused_and_says_so() {
    let env = Env::new();
    let _sup = env.up();
    let gone = env.run(&["--name", "gone"], &["sh", "-c", "sleep 0.5; exit 3"]);
    wait_until("the session has exited", T, || {
        row_of(&env, &gone).is_some_and(|r| !is_live(&r))
    });
    let out = env.paddock(&["message", &gone, "hello"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("refused") && err.contains("gone has exited (code 3)"),
        "{err}"
    );
    let out = env.paddock(&["send", "--enter", &gone, "hello"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn send_enter_to_bash_is_submitted_when_bash_runs_the_line_and_unknown_while_it_is_busy_with_a_silent_command(
) {
    let env = Env::new();
    let _sup = env.up();
    let sh = env.run(
        &["--name", "sh"],
        &["env", "PS1=ready$ ", "bash", "--norc", "--noprofile", "-i"],
    );
    let screen = |env: &Env| env.ok(&["logs", &sh]);
    wait_until("bash's prompt", T, || screen(&env).contains("ready$"));
    let out = env.ok(&["send", "--enter", &sh, "echo receipt-$((40 + 2))"]);
    assert!(out.starts_with("submitted: "), "{out}");
    wait_until("the line ran", T, || screen(&env).contains("receipt-42"));
    // Busy with a silent command (no sign within half a second: it prints nothing yet).
    let busy = env.ok(&[
        "send",
        "--enter",
        "--timeout",
        "0.5",
        &sh,
        "sleep 8; echo slept",
    ]);
    assert!(busy.starts_with("unknown: "), "{busy}");
    // The terminal echoes the next line, but nothing reads it yet: `unknown`, which for
    // keys typed as is is no error (exit 0), saying what was seen.
    let ahead = env.ok(&[
        "send",
        "--enter",
        "--timeout",
        "1",
        &sh,
        "echo typed-$((6 * 7))",
    ]);
    assert!(
        ahead.starts_with("unknown: ") && ahead.contains("still shows where it was typed"),
        "{ahead}"
    );
    // Bash reads the line once `sleep` is done: the receipt said `unknown`, not lost.
    wait_until("the typed-ahead line ran", T, || {
        let s = screen(&env);
        s.contains("slept") && s.contains("typed-42")
    });
}
