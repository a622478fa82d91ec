//! Codex as a program: `codex exec`, and its terminal UI in a real PTY under `paddock run`,
//! typed into with `paddock send`; its rollouts and notify calls checked.

use crate::common::*;
use crate::support::{approve_with_y, assert_ran, codex_bin, start_codex, ASK_FIRST, T};
use paddock_fakeapi::agents::{self, CodexSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::{json, Value};

/// The records of the rollout whose task is `task` (the interactive TUI may write others).
fn rollout_records(sb: &CodexSandbox, task: &str) -> Vec<Value> {
    sb.rollouts()
        .iter()
        .map(|f| agents::read_jsonl(f))
        .find(|records| {
            records.iter().any(|r| {
                r["payload"]["type"] == "message"
                    && r["payload"]["role"] == "user"
                    && r["payload"]["content"][0]["text"] == task
            })
        })
        .unwrap_or_default()
}

/// A Codex turn: run a shell command, then answer. Tokens over the two requests: 230 in (64
/// cached), 28 out.
fn codex_script(cmd: &str) -> Script {
    Script::new()
        .then(
            Reply::tool_use("exec_command", json!({"cmd": cmd}))
                .with_thinking("I should run a command.")
                .when(When::UserSays("please make a file".into()))
                .usage(Usage::new(100, 20)),
        )
        .then(
            Reply::text("Done, made.txt is there.")
                .when(When::ToolResult)
                .usage(Usage::new(130, 8).with_cache(0, 64)),
        )
}

/// Types `text` into Codex's box, then Enter. Text and Enter in one write would be taken as
/// a paste (Enter inserts a newline), so: type, wait for the text to show, press Enter alone.
fn type_to_codex(env: &Env, id: &str, text: &str) {
    env.ok(&["send", id, text]);
    env.wait_screen(id, "the typed prompt", T, |s| s.contains(text));
    env.ok(&["send", id, "--enter", ""]);
}

fn assert_codex_turn(sb: &CodexSandbox, fake: &FakeApi, cmd: &str) {
    let made = sb.project().join("made.txt");
    wait_until("made.txt written by codex's shell tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "made-by-codex\n")
    });
    assert_ran(fake, "the shell command's output");

    let mut records = Vec::new();
    wait_until("the rollout's task_complete", T, || {
        records = rollout_records(sb, "please make a file");
        records
            .iter()
            .any(|r| r["payload"]["type"] == "task_complete")
    });
    let of = |kind: &str, payload: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["type"] == kind && r["payload"]["type"] == payload)
            .map(|r| &r["payload"])
            .collect()
    };
    let meta = records
        .iter()
        .find(|r| r["type"] == "session_meta")
        .expect("session_meta");
    assert_eq!(
        meta["payload"]["cwd"],
        sb.project().display().to_string().as_str()
    );
    assert!(
        of("response_item", "message")
            .iter()
            .any(|m| m["role"] == "user" && m["content"][0]["text"] == "please make a file"),
        "the task is not in the rollout"
    );
    let call = of("response_item", "function_call");
    assert_eq!(call.len(), 1);
    assert_eq!(call[0]["name"], "exec_command");
    let args: Value =
        serde_json::from_str(call[0]["arguments"].as_str().expect("arguments")).expect("json");
    assert_eq!(args["cmd"], cmd);
    assert_eq!(of("response_item", "function_call_output").len(), 1);
    let totals = of("event_msg", "token_count")
        .last()
        .map(|p| p["info"]["total_token_usage"].clone())
        .expect("a token_count event");
    assert_eq!(totals["input_tokens"], 230, "{totals}");
    assert_eq!(totals["cached_input_tokens"], 64, "{totals}");
    assert_eq!(totals["output_tokens"], 28, "{totals}");
    assert_eq!(
        of("event_msg", "task_complete")[0]["last_agent_message"],
        "Done, made.txt is there."
    );

    // The interactive TUI also runs a side turn to title the thread, and notifies for it too:
    // look for the notification of the user's turn.
    let mut note = None;
    wait_until(
        "codex's notify program to be called for the turn",
        T,
        || {
            note = sb
                .notifications()
                .into_iter()
                .find(|n| n["input-messages"] == json!(["please make a file"]));
            note.is_some()
        },
    );
    let note = note.expect("found");
    assert_eq!(note["type"], "agent-turn-complete");
    assert_eq!(note["last-assistant-message"], "Done, made.txt is there.");
    assert_eq!(
        note["thread-id"], meta["payload"]["id"],
        "the notification names the rollout's thread"
    );
}

#[test]
fn codex_exec_runs_a_function_call_and_writes_the_rollout_and_notifies() {
    let codex = codex_bin();
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let mut c = std::process::Command::new(codex);
    sb.apply(&mut c);
    let mut child = c
        .args(["exec", "--skip-git-repo-check", "please make a file"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start codex exec");
    let mut status = None;
    wait_until("codex exec to finish", T, || {
        status = child.try_wait().expect("wait for codex");
        status.is_some()
    });
    let out = child.wait_with_output().expect("codex output");
    assert!(
        status.is_some_and(|s| s.success()),
        "codex exec failed: {status:?}\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        fake.log()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Done, made.txt is there."));
    assert_codex_turn(&sb, &fake, cmd);
}

#[test]
fn codex_interactive_under_paddock_run_runs_a_typed_turn() {
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    // --no-hooks: the CLI with the sandbox's notify program only, not Paddock's injected one.
    let id = start_codex(&env, &sb, &[], &["--no-hooks"], &codex_bin(), &[]);
    type_to_codex(&env, &id, "please make a file");
    assert_codex_turn(&sb, &fake, cmd);
    env.wait_screen(&id, "the answer", T, |s| {
        s.contains("Done, made.txt is there.")
    });
}

#[test]
fn codex_interactive_asks_before_an_escalated_command_and_y_runs_it() {
    let cmd = "echo approved-in-codex > made.txt";
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::tool_use(
                    "exec_command",
                    json!({"cmd": cmd, "sandbox_permissions": "require_escalated",
                           "justification": "Write made.txt in the project?"}),
                )
                .when(When::UserSays("please make a file".into())),
            )
            .then(Reply::text("Done, made.txt is there.").when(When::ToolResult)),
    )
    .expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    let id = start_codex(&env, &sb, &[], &["--no-hooks"], &codex_bin(), &ASK_FIRST);
    type_to_codex(&env, &id, "please make a file");
    let prompt = env.wait_screen(&id, "the approval prompt", T, |s| {
        s.contains("Would you like to run the following command?")
    });
    assert!(
        prompt.contains("Write made.txt in the project?"),
        "{prompt}"
    );
    assert!(prompt.contains(cmd), "{prompt}");
    let made = sb.project().join("made.txt");
    assert!(!made.exists(), "the command ran before it was approved");
    approve_with_y(&env, &id, &made, "approved-in-codex\n");
    assert_ran(&fake, "the approved command's output");
    env.wait_screen(&id, "the answer", T, |s| {
        s.contains("Done, made.txt is there.")
    });
}

#[test]
fn codex_through_paddock_works_runs_its_tool_and_waits_with_the_rollouts_actions_and_tokens() {
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    let _sup = env.up();
    let id = start_codex(&env, &sb, &[], &[], &codex_bin(), &[]);
    let row = |env: &Env| {
        env.ls()
            .into_iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or(Value::Null)
    };
    // The supervisor adopts the holder and recognises the agent on its next scans.
    let mut found = Value::Null;
    wait_until("the supervisor to recognise the session's agent", T, || {
        found = row(&env);
        !found["agent"].is_null()
    });
    assert_eq!(found["agent"], "codex", "{found}");
    env.ok(&["message", "codex", "please make a file"]);
    assert_codex_turn(&sb, &fake, cmd);
    wait_until("codex waiting for input after its turn", T, || {
        row(&env)["state"] == "waiting_input"
    });
    let mut shown = Value::Null;
    wait_until("the rollout's insight in `paddock show`", T, || {
        shown = serde_json::from_str(&env.ok(&["show", "codex", "--json"])).expect("JSON");
        shown["insight"]["tokens"]["output"] == 28
    });
    let insight = &shown["insight"];
    assert_eq!(insight["current_task"], "please make a file", "{insight:#}");
    // Codex counts cached tokens inside its input; Paddock counts them apart, as Anthropic does.
    assert_eq!(insight["tokens"]["input"], 230 - 64, "{insight:#}");
    assert_eq!(insight["tokens"]["cache_read"], 64, "{insight:#}");
    let action = insight["recent_actions"]
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("no action: {insight:#}"));
    assert!(
        action["input_summary"]
            .as_str()
            .is_some_and(|s| s.contains("made-by-codex")),
        "{action}"
    );
}
