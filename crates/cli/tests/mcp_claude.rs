//! Paddock's MCP server with the real Claude Code as its client: the pinned CLI, offline
//! against `paddock-fakeapi`, started with `paddock run` under a real `paddock up` and given
//! `paddock mcp` in `--mcp-config`, exactly as an owner would configure it. The fake model
//! calls Paddock's tools; the tests assert what the owner sees (`paddock approvals`, the
//! desktop notification, `paddock show`) and what the model gets back (the tool results the
//! fake API records).

#[path = "common/claude.rs"]
mod claude;
mod common;

use common::*;
use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::desktop::NotificationServer;
use paddock_fakeapi::{FakeApi, Recorded, Reply, Script, When};
use serde_json::{json, Value};
use std::time::Duration;

/// Generous: Claude Code is a large program and the machine is shared.
const T: Duration = Duration::from_secs(90);

/// `--mcp-config` naming the `paddock mcp` relay of the binary under test.
fn mcp_config() -> String {
    json!({"mcpServers": {"paddock": {"command": PADDOCK, "args": ["mcp"]}}}).to_string()
}

/// Starts the real Claude Code under `paddock run --name NAME [opts]` in `sandbox`, with
/// Paddock's MCP server configured and its tools allowed, then waits until the session is
/// idle at its prompt (known from the hooks Paddock injects): the session's id.
fn start_claude(env: &Env, sandbox: &ClaudeSandbox, name: &str, opts: &[&str]) -> String {
    let mut run_args = vec!["--name", name];
    run_args.extend_from_slice(opts);
    let mcp = mcp_config();
    let id = claude::start_claude(
        env,
        sandbox,
        &run_args,
        &[
            "--permission-mode",
            "manual",
            "--mcp-config",
            &mcp,
            "--allowedTools",
            "mcp__paddock",
        ],
        T,
    );
    env.wait_row(&id, "idle, known by its hooks", T, |r| r["state"] == "idle");
    id
}

/// `paddock approvals --json`: the pending requests.
fn approvals(env: &Env) -> Vec<Value> {
    serde_json::from_str(&env.ok(&["approvals", "--json"])).expect("approvals JSON")
}

/// Waits for a pending request that satisfies `pred`.
fn wait_approval(env: &Env, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let mut found = None;
    wait_until(what, T, || {
        found = approvals(env).into_iter().find(|r| pred(r));
        found.is_some()
    });
    found.expect("found")
}

/// The result the model got for its call of `tool_use_id` (the fake names its calls
/// `toolu_<seq>`; matched by the text instead, which is what the model reads).
fn wait_result(fake: &FakeApi, what: &str, pred: impl Fn(&str) -> bool) -> (String, bool) {
    let r: Recorded = fake.wait_for(what, T, |r| r.tool_results().iter().any(|t| pred(&t.text)));
    let t = r
        .tool_results()
        .into_iter()
        .find(|t| pred(&t.text))
        .expect("matched");
    (t.text, t.is_error)
}

#[test]
fn a_worker_claude_asks_its_owner_through_paddock_and_gets_the_answer_as_its_tool_result() {
    let env = Env::new();
    let desktop = NotificationServer::start(true).unwrap_or_else(|e| panic!("{e}"));
    let _sup = env.up_with(&[(
        "PADDOCK_NOTIFY__DESKTOP__BUS_ADDRESS".into(),
        desktop.address().to_owned(),
    )]);

    let question = "Ship it today?";
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::text("First my status.")
                    .with_tool_use(
                        "mcp__paddock__set_status",
                        json!({"task": "Ship the release", "progress": {"done": 1, "total": 3}, "message": "asking the owner"}),
                    )
                    .when(When::UserSays("ask the owner".into())),
            )
            .then(
                Reply::text("I will ask the owner.")
                    .with_tool_use(
                        "mcp__paddock__ask_owner",
                        json!({"question": question, "choices": ["yes", "no"]}),
                    )
                    .when(When::ToolResult),
            )
            .then(Reply::text("The owner said yes: shipping.").when(When::ToolResult)),
    )
    .expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    let id = start_claude(&env, &sandbox, "worker", &[]);
    env.ok(&["message", "worker", "ask the owner whether to ship"]);

    // Its status, in its own words: `paddock show` and `paddock ls`.
    let (text, is_error) = wait_result(&fake, "set_status's result at the model", |t| {
        t.contains("shown")
    });
    assert!(!is_error, "{text}");
    let status = "Ship the release · 1/3 (33%) · asking the owner";
    let shown = env.ok(&["show", "worker"]);
    assert!(
        shown.contains(&format!("status: {status} (set by the agent at")),
        "{shown}"
    );
    let row = env
        .ls()
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .expect("row");
    assert_eq!(row["agent_status"]["task"], "Ship the release", "{row:#}");
    assert_eq!(row["agent_status"]["percent"], 33, "{row:#}");
    assert!(env.ok(&["ls"]).contains(status));

    // The question reaches the owner: in `paddock approvals` and on the desktop.
    let asked = wait_approval(&env, "the question in paddock approvals", |r| {
        r["tool"] == "AskUserQuestion"
    });
    assert_eq!(asked["session"], id.as_str(), "{asked:#}");
    let listed = env.ok(&["approvals"]);
    assert!(listed.contains(question), "{listed}");
    let shown = desktop.wait_for("the question on the desktop", T, |s| {
        s.body.contains(question)
    });
    assert!(shown.actions.iter().any(|a| a == "yes"), "{shown:?}");

    // The owner answers from the CLI; the model gets the answer as the tool's result.
    let request = asked["id"].as_str().expect("request id");
    env.ok(&["approve", request, "--answer", "yes"]);
    let (text, is_error) = wait_result(&fake, "ask_owner's result at the model", |t| {
        t.contains("answered")
    });
    assert!(!is_error, "{text}");
    let result: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(result["answered"], true, "{result:#}");
    assert_eq!(result["answer"], "yes", "{result:#}");
    wait_until("the agent going on with the answer", T, || {
        fake.log().contains("shipping")
    });
}

#[test]
fn an_orchestrator_claude_spawns_a_worker_and_approves_its_request_but_never_its_own() {
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let env = Env::new();

    // The worker: its own fake API and sandbox. `spawn_session` starts it in the
    // supervisor's environment, so the supervisor runs in the worker's sandbox.
    let command = "echo from-the-worker > made.txt";
    let worker_api = FakeApi::start(
        Script::new()
            .then(
                Reply::text("I will create the file.")
                    .with_tool_use(
                        "Bash",
                        json!({"command": command, "description": "Create made.txt"}),
                    )
                    .when(When::UserSays("please make the file".into())),
            )
            .then(Reply::text("Done: made.txt exists.").when(When::ToolResult)),
    )
    .expect("worker's fake API");
    let worker_box = ClaudeSandbox::new(&worker_api.url()).expect("worker sandbox");
    let _sup = env.up_with(&worker_box.env());
    let made = worker_box.project().join("made.txt");

    // The orchestrator asks its owner something first (timeout 0: the question stays open,
    // a pending request of its own session), spawns the worker, waits until it asks
    // permission and lists the requests; the test then scripts the answers by their ids.
    let question = "May I deploy afterwards?";
    let spawn = json!({
        "command": claude.display().to_string(),
        "args": ["--permission-mode", "manual", "please make the file"],
        "cwd": worker_box.project().display().to_string(),
        "name": "worker",
    });
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::tool_use(
                    "mcp__paddock__ask_owner",
                    json!({"question": question, "timeout_secs": 0}),
                )
                .when(When::UserSays("run a worker".into())),
            )
            .then(Reply::tool_use("mcp__paddock__spawn_session", spawn).when(When::ToolResult))
            .then(
                Reply::tool_use(
                    "mcp__paddock__wait_for",
                    json!({"session": "worker", "states": ["waiting_permission"], "timeout_secs": 45}),
                )
                .when(When::ToolResult),
            )
            .then(
                Reply::tool_use("mcp__paddock__list_approvals", json!({}))
                    .when(When::ToolResult)
                    .gate("listed"),
            ),
    )
    .expect("orchestrator's fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("orchestrator sandbox");
    let boss = start_claude(&env, &sandbox, "boss", &["--orchestrator"]);
    env.ok(&["message", "boss", "run a worker and get its file made"]);

    let own = wait_approval(&env, "the orchestrator's own open question", |r| {
        r["session"] == boss.as_str() && r["tool"] == "AskUserQuestion"
    });
    let worker = wait_approval(&env, "the worker's Bash request", |r| {
        r["tool"] == "Bash" && r["session"] != boss.as_str()
    });
    let (own_id, worker_id) = (
        own["id"].as_str().expect("id"),
        worker["id"].as_str().expect("id"),
    );
    let (waited, _) = wait_result(&fake, "wait_for's result", |t| t.contains("reached"));
    let waited: Value = serde_json::from_str(&waited).unwrap_or_else(|e| panic!("{e}: {waited}"));
    assert_eq!(waited["reached"], true, "{waited:#}");
    assert_eq!(
        waited["session"]["state"], "waiting_permission",
        "{waited:#}"
    );
    assert!(
        !made.exists(),
        "the worker's tool ran before anyone allowed it"
    );

    for reply in [
        Reply::tool_use(
            "mcp__paddock__answer_approval",
            json!({"request": worker_id, "decision": "allow"}),
        ),
        Reply::tool_use(
            "mcp__paddock__answer_approval",
            json!({"request": own_id, "decision": "allow"}),
        ),
        Reply::text("The worker made its file."),
    ] {
        fake.push(reply.when(When::ToolResult));
    }
    fake.open_gate("listed");

    // The orchestrator saw the worker's request, allowed it, and the worker's tool ran.
    let (listed, is_error) = wait_result(&fake, "list_approvals' result", |t| {
        t.contains("\"requests\"")
    });
    assert!(!is_error && listed.contains(worker_id), "{listed}");
    let (allowed, is_error) = wait_result(&fake, "answer_approval's result", |t| {
        t.contains(&format!("request {worker_id} "))
    });
    assert!(!is_error, "{allowed}");
    wait_until("made.txt written by the worker's real Bash tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "from-the-worker\n")
    });

    // Its own request: refused, and the refusal is what the model reads.
    let (refusal, is_error) = wait_result(&fake, "the refusal of its own request", |t| {
        t.contains("refused")
    });
    assert!(is_error, "a refusal is a tool error: {refusal}");
    assert!(
        refusal.contains(own_id) && refusal.contains("never answers its own"),
        "{refusal}"
    );
    let pending = approvals(&env);
    assert!(
        pending.iter().any(|r| r["id"] == own_id),
        "the owner still has the question to answer: {pending:#?}"
    );
    let all: Vec<Value> =
        serde_json::from_str(&env.ok(&["approvals", "--all", "--json"])).expect("JSON");
    let decided = all.iter().find(|r| r["id"] == worker_id).expect("worker's");
    assert!(
        decided["outcome"]["by"]
            .as_str()
            .is_some_and(|b| b.contains("orchestrator")),
        "{decided:#}"
    );
}

#[test]
fn claude_p_asks_permission_through_paddock_one_tool_approved_runs_and_one_denied_is_told_why() {
    let env = Env::new();
    let _sup = env.up();
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::tool_use(
                    "Bash",
                    json!({"command": "echo allowed > a.txt", "description": "Create a.txt"}),
                )
                .when(When::UserSays("make two files".into())),
            )
            .then(
                Reply::tool_use(
                    "Bash",
                    json!({"command": "echo denied > b.txt", "description": "Create b.txt"}),
                )
                .when(When::ToolResult),
            )
            .then(Reply::text("Finished with one file.").when(When::ToolResult)),
    )
    .expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    let mcp = mcp_config();
    let id = claude::run_claude(
        &env,
        &sandbox,
        &["--name", "headless"],
        &[
            "-p",
            "make two files",
            "--permission-mode",
            "manual",
            "--mcp-config",
            &mcp,
            "--permission-prompt-tool",
            "mcp__paddock__approval_prompt",
        ],
    );
    let (a, b) = (
        sandbox.project().join("a.txt"),
        sandbox.project().join("b.txt"),
    );

    // The first Bash call: an ordinary Paddock request, the session waiting on it.
    let first = wait_approval(&env, "the first Bash request", |r| {
        r["tool"] == "Bash" && r["input"]["command"] == "echo allowed > a.txt"
    });
    assert_eq!(first["session"], id.as_str(), "{first:#}");
    // Opened by approval_prompt (which waits at most 45 s), not by a PermissionRequest hook
    // (which waits `agents.permission_timeout`, 9m 50s by default).
    let at = |k: &str| {
        humantime::parse_rfc3339_weak(first[k].as_str().expect("time")).expect("RFC 3339")
    };
    let wait = at("expires_at")
        .duration_since(at("created_at"))
        .expect("expires later");
    assert!(wait <= Duration::from_secs(45), "{first:#}");
    wait_until("the session waiting for permission", T, || {
        env.ls()
            .iter()
            .any(|r| r["id"] == id.as_str() && r["state"] == "waiting_permission")
    });
    assert!(!a.exists(), "the tool ran before anyone allowed it");
    env.ok(&["approve", first["id"].as_str().expect("id")]);
    wait_until("a.txt written by the approved Bash tool", T, || {
        std::fs::read_to_string(&a).is_ok_and(|s| s == "allowed\n")
    });

    // The second: denied with a reason, which the model reads as the tool's result.
    let second = wait_approval(&env, "the second Bash request", |r| {
        r["tool"] == "Bash" && r["input"]["command"] == "echo denied > b.txt"
    });
    env.ok(&[
        "deny",
        second["id"].as_str().expect("id"),
        "--message",
        "not b.txt today",
    ]);
    let (text, is_error) = wait_result(&fake, "the denial at the model", |t| {
        t.contains("not b.txt today")
    });
    assert!(is_error, "a denied tool is an error result: {text}");
    wait_until("claude -p finishing its run", T, || {
        env.ls().iter().any(|r| {
            r["id"] == id.as_str() && matches!(r["state"].as_str(), Some("completed" | "exited"))
        })
    });
    assert!(!b.exists(), "the denied tool ran");
    let log = env.ok(&["logs", &id]);
    assert!(log.contains("Finished with one file."), "{log}");
}
