//! The states of plain programs (working, waiting, idle), sessions in the very next `ls`,
//! and what a message to a session says.

use crate::common::*;
use crate::support::{status, T};
use std::time::{Duration, Instant};

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
