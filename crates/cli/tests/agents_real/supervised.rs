//! The real Claude Code through the supervisor: its states, permission requests answered in
//! Paddock or in the terminal, interrupts, messages, Claude in a tmux Paddock did not start,
//! and its own OSC 7501 reports without hooks.

use crate::claude::{bash_then_text, tool_result_turn, Claude};
use crate::common::*;
use crate::support::{overloaded, T};
use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::claude_session::prompt_ready;
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::{json, Value};

#[test]
fn claude_through_paddock_idle_working_waiting_permission_approved_then_waiting_input() {
    let command = "echo approved-in-paddock > made.txt";
    let c = Claude::start_supervised(bash_then_text(command, "Done: made.txt exists."));
    let row = c.wait_ready();
    assert_eq!(row["agent"], "claude");
    assert_eq!(row["sources"][0], "hooks", "{row}");

    let out = c.env.ok(&["message", "claude", "please make a file"]);
    assert!(out.starts_with("submitted: "), "{out}");
    let row = c.wait_row("the permission request in the state", |r| {
        r["state"] == "waiting_permission" && r["permission"]["input"]["command"] == command
    });
    assert_eq!(row["tool"], "Bash");
    assert_eq!(row["sources"][0], "hooks");
    let pending = c.approvals();
    assert_eq!(pending.len(), 1, "{pending:#?}");
    let req = &pending[0];
    for key in ["id", "session", "tool", "input", "created_at"] {
        assert!(!req[key].is_null(), "approvals --json lacks {key}: {req}");
    }
    assert_eq!(req["session"], c.id.as_str());
    assert_eq!(req["tool"], "Bash");
    assert_eq!(req["input"]["command"], command);
    let id = req["id"].as_str().expect("id").to_owned();
    let made = c.sandbox.project().join("made.txt");
    assert!(!made.exists(), "the tool ran before anyone allowed it");

    let out = c.env.ok(&["approve", &id]);
    assert!(out.contains("allowed"), "{out}");
    wait_until("made.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-in-paddock\n")
    });
    let result = tool_result_turn(&c.fake, &c.bash_call_id());
    assert!(
        !result.tool_results()[0].is_error,
        "{:?}",
        result.tool_results()
    );
    let row = c.wait_state("waiting_input");
    assert!(row["permission"].is_null(), "{row}");
    assert!(c.approvals().is_empty(), "nothing left to answer");

    // The transcript, read as it grew: the task, the action, the tokens of both answers.
    let mut shown = Value::Null;
    wait_until(
        "the transcript's second answer in `paddock show`",
        T,
        || {
            shown = serde_json::from_str(&c.env.ok(&["show", "claude", "--json"])).expect("JSON");
            shown["insight"]["tokens"]["output"] == 52
        },
    );
    let insight = &shown["insight"];
    assert_eq!(insight["current_task"], "please make a file", "{insight:#}");
    let action = insight["recent_actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["tool"] == "Bash"))
        .unwrap_or_else(|| panic!("no Bash action: {insight:#}"));
    assert!(
        action["input_summary"]
            .as_str()
            .is_some_and(|s| s.contains("approved-in-paddock")),
        "{action}"
    );
    assert_eq!(action["status"], "succeeded", "{action}");
    assert_eq!(insight["tokens"]["input"], 2500, "{insight:#}");
    assert_eq!(insight["tokens"]["cache_read"], 500);
    assert_eq!(insight["tokens"]["cache_creation"], 300);

    // A late answer is refused and says who answered first.
    let late = c.env.paddock(&["deny", &id]);
    assert!(!late.status.success());
    let err = String::from_utf8_lossy(&late.stderr);
    assert!(err.contains("already allowed by cli"), "{err}");

    // The process killed: exited, with how.
    c.env.ok(&["kill", "claude"]);
    let row = c.wait_state("exited");
    assert_eq!(row["exit_code"], 137, "{row}");
}

#[test]
fn claude_denied_through_paddock_is_told_why_and_a_question_is_answered_by_message() {
    let command = "echo must-not-run > made.txt";
    let why = "not in this folder, use /tmp";
    let script = bash_then_text(command, "Which folder should I use instead?").then(
        Reply::text("Creating it in /tmp then.")
            .when(When::UserSays("use /tmp".into()))
            .usage(Usage::new(1400, 9)),
    );
    let c = Claude::start_supervised(script);
    c.wait_ready();
    c.env.ok(&["message", "claude", "please make a file"]);
    let id = c.wait_request();
    c.env.ok(&["deny", &id, "--message", why]);
    let result = tool_result_turn(&c.fake, &c.bash_call_id());
    let tr = &result.tool_results()[0];
    assert!(
        tr.is_error && tr.text.contains(why),
        "the agent was not told why: {tr:?}"
    );
    assert!(
        !c.sandbox.project().join("made.txt").exists(),
        "the denied tool ran"
    );

    // The agent asks a question: it waits for input; a message from Paddock answers it.
    c.wait_state("waiting_input");
    c.env.ok(&["message", "claude", "use /tmp"]);
    c.fake.wait_for("the typed answer", T, |r| {
        r.is_turn() && r.last_user_text().contains("use /tmp")
    });
    c.wait_screen("the reply", |s| s.contains("Creating it in /tmp then."));
    c.wait_state("waiting_input");
}

#[test]
fn claude_api_failure_is_errored_with_the_reason() {
    let c = Claude::start_supervised(overloaded());
    c.wait_ready();
    c.env.ok(&["message", "claude", "are you there?"]);
    let row = c.wait_state("errored");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|r| r.contains("server_error")),
        "{row}"
    );
}

#[test]
fn claude_in_tmux_that_paddock_did_not_start_waits_for_permission_and_is_approved_through_paddock()
{
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let command = "echo approved-from-afar > made.txt";
    let fake = FakeApi::start(bash_then_text(command, "Done: made.txt exists.")).expect("fake");
    let sb = ClaudeSandbox::new(&fake.url()).expect("sandbox");
    let env = Env::new();
    // The supervisor reads the status files of the sandbox's Claude Code.
    let _sup = env.up_with(&[("HOME".into(), sb.home().display().to_string())]);
    let mut line = format!("cd '{}' && exec env", sb.project().display());
    for k in sb.unset() {
        line.push_str(&format!(" -u {k}"));
    }
    for (k, v) in sb.env() {
        line.push_str(&format!(" {k}='{v}'"));
    }
    // Plain `claude` with no Paddock hooks: only its screen and status file tell its state.
    line.push_str(&format!(" '{}' --permission-mode manual", claude.display()));
    let server = format!("pdk-cc-{}", std::process::id());
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .env("TMUX_TMPDIR", env.dir())
            .args(["-L", &server])
            .args(args)
            .output()
            .expect("tmux")
    };
    let out = tmux(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "40",
        &line,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    struct KillServer<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for KillServer<'_> {
        fn drop(&mut self) {
            (self.0)(&["kill-server"]);
        }
    }
    let _kill = KillServer(&tmux);
    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
    wait_until("Claude Code's prompt in the pane", T, || {
        prompt_ready(&capture())
    });
    let mut row = Value::Null;
    wait_until("paddock to find and bridge the pane", T, || {
        row = env
            .ls()
            .into_iter()
            .find(|r| r["agent"] == "claude" && r["backend"] == "tmux")
            .unwrap_or(Value::Null);
        !row.is_null()
    });
    let id = row["id"].as_str().expect("id").to_owned();

    env.ok(&["message", &id, "please make a file"]);
    let mut shown = None;
    let mut waiting = None;
    wait_until(
        "the prompt in the pane and waiting_permission in paddock",
        T,
        || {
            if shown.is_none() && capture().contains("Do you want to proceed?") {
                shown = Some(std::time::Instant::now());
            }
            if waiting.is_none() {
                let r = env.ls().into_iter().find(|r| r["id"] == id.as_str());
                if let Some(r) = r.filter(|r| r["state"] == "waiting_permission") {
                    waiting = Some((std::time::Instant::now(), r));
                }
            }
            shown.is_some() && waiting.is_some()
        },
    );
    let (at, _) = waiting.expect("waiting");
    if let Some(shown) = shown {
        eprintln!(
            "waiting_permission seen {:?} after the prompt was on the pane (ls polling included)",
            at.saturating_duration_since(shown)
        );
    }
    // The status file may say "waiting" a moment before the screen names the tool.
    let mut row = Value::Null;
    wait_until("the screen to name the tool", T, || {
        row = env
            .ls()
            .into_iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or(Value::Null);
        row["tool"] == "Bash"
    });
    assert_eq!(row["state"], "waiting_permission", "{row}");
    let sources: Vec<&str> = row["sources"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        sources.contains(&"screen") || sources.contains(&"status_file"),
        "{row}"
    );
    let pending: Vec<Value> = env.approvals();
    let req = pending
        .iter()
        .find(|r| r["session"] == id.as_str())
        .unwrap_or_else(|| panic!("no request for {id}: {pending:#?}"));
    assert_eq!(req["channel"], "terminal");
    assert!(
        req["input"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("approved-from-afar")),
        "{req}"
    );
    let made = sb.project().join("made.txt");
    env.ok(&["approve", req["id"].as_str().expect("id")]);
    wait_until("made.txt written by the approved tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-from-afar\n")
    });
    wait_until("the agent to finish its turn", T, || {
        env.ls()
            .into_iter()
            .any(|r| r["id"] == id.as_str() && r["state"] == "waiting_input")
    });
}

#[test]
fn claude_interrupted_through_paddock_stops_and_gets_the_feedback() {
    let script = Script::new()
        .then(
            Reply::text("This will take a long while.")
                .gate("never")
                .when(When::UserSays("start the long job".into())),
        )
        .then(
            Reply::text("Understood, doing the short one.")
                .when(When::UserSays("do the short one".into()))
                .usage(Usage::new(10, 5)),
        );
    let c = Claude::start_supervised(script);
    c.wait_ready();
    c.env.ok(&["message", &c.id, "start the long job"]);
    c.wait_state("working");
    // Interrupt once the model has the turn: before that, the scripted long reply is still
    // unused and would answer the feedback too. Esc puts the interrupted prompt back in
    // Claude Code's composer (docs/agents-offline.md); Paddock empties it before typing the
    // feedback, so the feedback reaches the model alone.
    c.fake.wait_for("the long job at the model", T, |r| {
        r.is_turn() && r.prompt().contains("start the long job")
    });
    c.env
        .ok(&["interrupt", &c.id, "--message", "do the short one instead"]);
    let feedback = c.fake.wait_for("the feedback after the interrupt", T, |r| {
        r.is_turn() && r.last_user_text().contains("do the short one instead")
    });
    let text = feedback.last_user_text();
    assert!(
        text.trim_end().ends_with("do the short one instead")
            && !text.contains("start the long job"),
        "the feedback went with the interrupted prompt: {text:?}"
    );
    c.wait_screen("the answer to the feedback", |s| {
        s.contains("Understood, doing the short one.")
    });
    c.wait_state("waiting_input");
}

#[test]
fn a_message_to_claude_at_its_prompt_is_submitted_and_to_a_busy_claude_queued() {
    let script = Script::new().then(
        Reply::text("This will take a long while.")
            .gate("never")
            .when(When::UserSays("start the long job".into())),
    );
    let c = Claude::start_supervised(script);
    c.wait_ready();
    let out = c.env.ok(&["message", &c.id, "start the long job"]);
    assert!(out.starts_with("submitted: "), "{out}");
    c.fake.wait_for("the long job at the model", T, |r| {
        r.is_turn() && r.prompt().contains("start the long job")
    });
    c.wait_state("working");
    let out = c.env.ok(&["message", &c.id, "and then the tests"]);
    assert!(out.starts_with("queued: "), "{out}");
    assert!(out.contains("busy"), "{out}");
}

#[test]
fn a_message_of_several_lines_reaches_claude_as_one_message() {
    let script = Script::new()
        .then(Reply::text("Both lines read.").when(When::UserSays("second line".into())));
    let c = Claude::start_supervised(script);
    c.wait_ready();
    let out = c.env.ok(&["message", &c.id, "first line\nsecond line"]);
    assert!(out.starts_with("submitted: "), "{out}");
    let turn = c.fake.wait_for("the message at the model", T, |r| {
        r.is_turn() && r.prompt().contains("second line")
    });
    assert!(
        turn.prompt().contains("first line\nsecond line"),
        "the lines did not arrive together: {:?}",
        turn.prompt()
    );
    c.wait_screen("the answer", |s| s.contains("Both lines read."));
    c.wait_state("waiting_input");
    // The newline did not submit the first line on its own.
    let turns: Vec<String> = c
        .fake
        .requests()
        .iter()
        .filter(|r| r.is_turn())
        .map(|r| r.prompt())
        .collect();
    assert!(
        turns.iter().all(|p| p.trim() != "first line"),
        "the first line went alone: {turns:?}"
    );
}

#[test]
fn a_permission_answered_in_the_terminal_is_withdrawn_and_a_late_answer_is_told() {
    let command = "echo answered-at-the-terminal > made.txt";
    let c = Claude::start_supervised(bash_then_text(command, "Done: made.txt exists."));
    c.wait_ready();
    c.env.ok(&["message", &c.id, "please make a file"]);
    let id = c.wait_request();
    // A message now would answer the prompt by accident: refused.
    let out = c.env.paddock(&["message", &c.id, "hello"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("waiting for permission"), "{err}");
    c.allow_at_the_terminal();
    let made = c.sandbox.project().join("made.txt");
    wait_until(
        "made.txt written by the tool allowed at the terminal",
        T,
        || std::fs::read_to_string(&made).is_ok_and(|s| s == "answered-at-the-terminal\n"),
    );
    c.wait_state("waiting_input");
    assert!(c.approvals().is_empty(), "the request is no longer pending");
    let late = c.env.paddock(&["approve", &id]);
    assert!(!late.status.success());
    let err = String::from_utf8_lossy(&late.stderr);
    assert!(
        err.contains("no longer waiting") && err.contains("terminal"),
        "{err}"
    );
}

/// Must show (issue 15): started with `--no-hooks`, the real Claude Code's own status reports
/// (OSC 7501, which it sends once the holder answers its query) give the supervisor working,
/// waiting_permission with the command, and waiting_input; the reports never reach a client.
#[test]
fn claude_without_hooks_shows_its_states_from_its_own_osc_7501_reports() {
    let command = "echo hi > osc.txt";
    let script = Script::new()
        .then(
            Reply::text("I will create the file.")
                .with_tool_use(
                    "Bash",
                    json!({"command": command, "description": "Create osc.txt"}),
                )
                .when(When::UserSays("please make a file".into()))
                .gate("think"),
        )
        .then(Reply::text("Done: osc.txt exists.").when(When::ToolResult));
    let c = Claude::start_supervised_without_hooks(script);
    let from_program = |r: &Value, state: &str| r["state"] == state && r["sources"][0] == "program";
    let row = c.wait_row("idle from Claude Code's own report", |r| {
        from_program(r, "idle")
    });
    assert_eq!(row["program"]["app"], "claude-code", "{row:#}");

    c.say("please make a file");
    let row = c.wait_row("working from its own report", |r| {
        from_program(r, "working")
    });
    assert_eq!(row["program"]["state"], "working", "{row:#}");

    c.fake.open_gate("think");
    // The state and the request it opens arrive as two updates, a moment apart.
    let row = c.wait_row(
        "waiting_permission from its own report, with its request open",
        |r| from_program(r, "waiting_permission") && !r["permission"].is_null(),
    );
    assert_eq!(row["tool"], "Bash", "{row:#}");
    assert_eq!(row["permission"]["input"]["command"], command, "{row:#}");
    assert_eq!(row["program"]["kind"], "permission", "{row:#}");
    assert!(
        row["program"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(command)),
        "{row:#}"
    );
    let shown = c.env.ok(&["ls"]);
    assert!(
        shown.contains(command),
        "`paddock ls` shows the command:\n{shown}"
    );
    let osc = c.sandbox.project().join("osc.txt");
    assert!(!osc.exists(), "the tool ran before anyone allowed it");

    // Allowed in the terminal, as its owner would: the report that it works again withdraws
    // the request, and the end of the turn is waiting_input.
    c.allow_at_the_terminal();
    wait_until("osc.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&osc).is_ok_and(|s| s == "hi\n")
    });
    let row = c.wait_row("waiting_input from its own report", |r| {
        from_program(r, "waiting_input")
    });
    assert!(row["permission"].is_null(), "{row:#}");
    assert!(c.approvals().is_empty(), "nothing left to answer");

    // The holder was the terminal: no client saw a query or a report.
    let raw = c.env.ok(&["logs", &c.id, "--raw"]);
    assert!(
        !raw.contains("\u{1b}]7501"),
        "an OSC 7501 sequence reached the output"
    );
}
