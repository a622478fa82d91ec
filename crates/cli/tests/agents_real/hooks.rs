//! The real Claude Code under `paddock run`, without a supervisor: its hooks allow or deny,
//! an API error ends the turn, its task list is kept; and the install check.

use crate::claude::{bash_then_text, tool_result_turn, wait_for_permission_prompt, Claude};
use crate::common::*;
use crate::support::{overloaded, T};
use paddock_fakeapi::agents;
use paddock_fakeapi::{Reply, Script, When};
use serde_json::{json, Value};

#[test]
fn claude_permission_allowed_by_a_hook_runs_the_tool_and_the_model_gets_its_result() {
    let command = "echo made-by-claude > made.txt";
    let c = Claude::start(bash_then_text(command, "Done: made.txt exists."));
    c.say("please make a file");

    let submitted = c.wait_hook("UserPromptSubmit", |_| true);
    assert_eq!(submitted["prompt"], "please make a file");
    let first = c.fake.wait_for("the typed prompt", T, |r| {
        r.is_turn() && r.last_user_text().contains("please make a file")
    });
    assert_eq!(first.reply, Some(0), "{}", c.fake.log());

    let tool_id = wait_for_permission_prompt(&c, command);
    let made = c.sandbox.project().join("made.txt");
    assert!(!made.exists(), "the tool ran before anyone allowed it");

    c.sandbox.allow_next().expect("write the decision");
    wait_until("made.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "made-by-claude\n")
    });
    let result = tool_result_turn(&c.fake, &tool_id);
    let tr = &result.tool_results()[0];
    assert!(!tr.is_error, "the allowed tool failed: {tr:?}");
    assert_eq!(result.reply, Some(1));

    let stop = c.wait_hook("Stop", |_| true);
    assert_eq!(stop["last_assistant_message"], "Done: made.txt exists.");
    c.wait_screen("the final answer", |s| s.contains("Done: made.txt exists."));
    let post = c.wait_hook("PostToolUse", |p| p["tool_use_id"] == tool_id.as_str());
    assert_eq!(post["tool_name"], "Bash");

    // The transcript has the turn with the usage the fake reported.
    let transcript = c.sandbox.transcripts();
    assert_eq!(transcript.len(), 1, "{transcript:?}");
    let records = agents::read_jsonl(&transcript[0]);
    let usage = records
        .iter()
        .find(|r| r["type"] == "assistant" && r["message"]["usage"]["input_tokens"] == 1200)
        .map(|r| r["message"]["usage"].clone())
        .expect("the first answer's usage in the transcript");
    assert_eq!(usage["cache_read_input_tokens"], 500);
    assert_eq!(usage["cache_creation_input_tokens"], 300);
}

#[test]
fn claude_permission_denied_by_a_hook_tells_the_model_why() {
    let command = "echo should-not-run > made.txt";
    let why = "Denied from Paddock: not in this folder, please";
    let c = Claude::start(bash_then_text(command, "Understood, I will not create it."));
    c.say("please make a file");

    let tool_id = wait_for_permission_prompt(&c, command);
    c.sandbox.deny_next(why).expect("write the decision");

    let result = tool_result_turn(&c.fake, &tool_id);
    let tr = &result.tool_results()[0];
    assert!(tr.is_error, "a denial is an error result: {tr:?}");
    assert!(tr.text.contains(why), "the model was not told why: {tr:?}");
    let stop = c.wait_hook("Stop", |_| true);
    assert_eq!(
        stop["last_assistant_message"],
        "Understood, I will not create it."
    );
    assert!(
        !c.sandbox.project().join("made.txt").exists(),
        "the denied tool ran"
    );
}

#[test]
fn claude_api_error_ends_the_turn_with_stop_failure_and_shows_the_error() {
    let c = Claude::start(overloaded());
    c.say("are you there?");
    let failure = c.wait_hook("StopFailure", |_| true);
    assert_eq!(failure["error"], "server_error", "{failure}");
    assert!(
        failure["last_assistant_message"]
            .as_str()
            .is_some_and(|m| m.contains("529")),
        "{failure}"
    );
    c.wait_screen("the API error", |s| s.contains("API Error: 529"));
    assert_eq!(c.fake.times_used(0), 1, "{}", c.fake.log());
    assert!(
        c.sandbox.hooks_of("Stop").is_empty(),
        "a failed turn is not a Stop"
    );
}

#[test]
fn claude_task_tools_keep_the_agents_task_list() {
    // The task tools are deferred: the model loads them with ToolSearch before calling them.
    let c = Claude::start_with_task_tools(
        Script::new()
            .then(
                Reply::tool_use(
                    "ToolSearch",
                    json!({"query": "select:TaskCreate,TaskUpdate", "max_results": 5}),
                )
                .when(When::UserSays("plan it".into())),
            )
            .then(
                Reply::tool_use(
                    "TaskCreate",
                    json!({"subject": "Write the parser", "description": "Parse the input",
                           "activeForm": "Writing the parser"}),
                )
                .with_tool_use(
                    "TaskCreate",
                    json!({"subject": "Test the parser", "description": "Cover the edge cases",
                           "activeForm": "Testing the parser"}),
                )
                .when(When::ToolResult),
            )
            .then(
                Reply::tool_use("TaskUpdate", json!({"taskId": "1", "status": "completed"}))
                    .when(When::ToolResult),
            )
            .then(Reply::text("Planned.").when(When::ToolResult)),
    );
    c.say("please plan it");
    c.wait_hook("Stop", |p| p["last_assistant_message"] == "Planned.");
    c.wait_screen("the task list", |s| s.contains("1/2 tasks done"));
    let session = c.wait_hook("SessionStart", |_| true)["session_id"]
        .as_str()
        .expect("session id")
        .to_owned();
    let dir = c.sandbox.home().join(".claude/tasks").join(&session);
    let task: Value =
        serde_json::from_slice(&std::fs::read(dir.join("1.json")).expect("task 1 file"))
            .expect("task json");
    assert_eq!(task["subject"], "Write the parser");
    assert_eq!(task["status"], "completed");
    // The two calls of one message may run together: compare without order.
    let mut subjects: Vec<String> = c
        .sandbox
        .hooks_of("TaskCreated")
        .iter()
        .filter_map(|p| p["task_subject"].as_str().map(str::to_owned))
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["Test the parser", "Write the parser"]);
    let done = c.wait_hook("TaskCompleted", |_| true);
    assert_eq!(done["task_id"], "1");
    let created = c.sandbox.hooks_of("PostToolUse");
    assert_eq!(
        created
            .iter()
            .filter(|p| p["tool_name"] == "TaskCreate")
            .count(),
        2
    );
}

#[test]
fn install_check_on_an_empty_cache_names_the_install_script() {
    // Point the lookup at an empty cache: the error must say how to get the CLIs.
    let empty = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new("sh")
        .args(["-c", "../../scripts/install-agents.sh --check"])
        .env("PADDOCK_AGENTS_DIR", empty.path())
        .output()
        .expect("run the install script");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not installed") && err.contains("scripts/install-agents.sh"),
        "{err}"
    );
    let left = std::fs::read_dir(empty.path()).expect("cache dir").count();
    assert_eq!(left, 0, "--check must not install anything");
}
