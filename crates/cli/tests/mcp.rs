//! Paddock as an MCP server, driven by an independent MCP client (the official SDK's client)
//! through the real `paddock mcp` relay against a real `paddock up` and real sessions. A
//! caller inside a session is a `paddock mcp` started by that session's own command, its
//! stdio on two FIFOs the test holds: the supervisor identifies it from the socket's peer
//! credentials exactly as it does an agent's.

mod common;
#[path = "common/mcp_client.rs"]
mod mcp_client;

use common::*;
use mcp_client::*;
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

type Mcp = RunningService<RoleClient, ()>;

/// An MCP client on a `paddock mcp` started outside any session.
async fn client_outside(env: &Env) -> Mcp {
    let mut cmd = tokio::process::Command::new(PADDOCK);
    cmd.envs(env.cmd().get_envs().filter_map(|(k, v)| Some((k, v?))))
        .arg("mcp")
        .env_remove("PADDOCK_SESSION_ID");
    let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("spawn paddock mcp");
    ().serve(transport).await.expect("MCP initialize")
}

async fn screen_shows(c: &Mcp, session: &str, needle: &str) -> bool {
    let s = ok(c, "read_screen", json!({"session": session})).await;
    s["rows"].as_array().is_some_and(|rows| {
        rows.iter()
            .any(|r| r.as_str().is_some_and(|r| r.contains(needle)))
    })
}

async fn eventually(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_orchestrator_lists_reads_messages_waits_on_and_stops_another_session() {
    let env = Env::new();
    let _sup = env.up();
    let worker = env.run(&["--name", "worker", "--env", "PS1=ready> "], &["sh"]);
    let (orch, c) = client_in_session(&env, "orch", &["--orchestrator"]).await;

    let tools: Vec<String> = c
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    for name in [
        "list_sessions",
        "get_session",
        "read_screen",
        "read_transcript",
        "send_message",
        "send_keys",
        "spawn_session",
        "stop_session",
        "wait_for",
        "list_approvals",
        "answer_approval",
        "notify_owner",
        "ask_owner",
        "get_answer",
    ] {
        assert!(
            tools.iter().any(|t| t == name),
            "{name} missing from {tools:?}"
        );
    }

    let list = ok(&c, "list_sessions", json!({})).await;
    let sessions = list["sessions"].as_array().expect("sessions");
    let mine = sessions
        .iter()
        .find(|s| s["id"] == orch.as_str())
        .expect("own session listed");
    assert_eq!(mine["yours"], true);
    let w = sessions
        .iter()
        .find(|s| s["id"] == worker.as_str())
        .expect("worker listed");
    assert_eq!(w["name"], "worker");
    assert_eq!(w["yours"], false);

    // The worker's prompt, then a message typed into it and its output on its screen.
    eventually("the worker's prompt on its screen", async || {
        screen_shows(&c, "worker", "ready>").await
    })
    .await;
    let receipt = ok(
        &c,
        "send_message",
        json!({"session": "worker", "text": "echo sum-$((40+2))"}),
    )
    .await;
    assert_eq!(receipt["outcome"], "submitted", "{receipt}");
    eventually("the command's output on the worker's screen", async || {
        screen_shows(&c, &worker, "sum-42").await
    })
    .await;

    // Keys: a line typed without Enter stays in the prompt until `enter` is sent.
    ok(
        &c,
        "send_keys",
        json!({"session": "worker", "text": "echo keys-$((6*7))"}),
    )
    .await;
    eventually("the typed keys on the screen", async || {
        screen_shows(&c, &worker, "keys-$((6*7))").await
    })
    .await;
    assert!(
        !screen_shows(&c, &worker, "keys-42").await,
        "nothing ran before enter"
    );
    ok(
        &c,
        "send_keys",
        json!({"session": "worker", "keys": ["enter"]}),
    )
    .await;
    eventually("the keyed command's output", async || {
        screen_shows(&c, &worker, "keys-42").await
    })
    .await;

    // wait_for: a state that does not come times out with a result saying so.
    let waited = ok(
        &c,
        "wait_for",
        json!({"session": "worker", "states": ["completed"], "timeout_secs": 1}),
    )
    .await;
    assert_eq!(waited["reached"], false, "{waited}");
    assert!(waited["detail"]
        .as_str()
        .is_some_and(|d| d.contains("call wait_for again")));

    // Stopping it, while another call waits for its exit.
    let wait = call(
        &c,
        "wait_for",
        json!({"session": "worker", "states": ["exited", "completed"], "timeout_secs": 20}),
    );
    let stop = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        ok(
            &c,
            "stop_session",
            json!({"session": "worker", "grace_secs": 1}),
        )
        .await
    };
    let (waited, stopped) = tokio::join!(wait, stop);
    // An interactive shell ignores TERM: it is killed after the grace period.
    assert!(
        stopped["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ignored TERM for 1 s and was killed")),
        "{stopped}"
    );
    let waited = waited.structured_content.expect("wait result");
    assert_eq!(waited["reached"], true, "{waited}");
    assert_eq!(waited["session"]["state"], "exited");

    c.cancel().await.expect("close");
}

#[tokio::test]
async fn bad_input_gets_a_clear_tool_error() {
    let env = Env::new();
    let _sup = env.up();
    let (_orch, c) = client_in_session(&env, "orch", &["--orchestrator"]).await;
    let worker = env.run(&["--name", "worker"], &["sh"]);

    let e = refused(&c, "read_screen", json!({"session": "nope"})).await;
    assert!(e.contains("no session `nope`"), "{e}");
    let e = refused(&c, "list_sessions", json!({"state": "sleepy"})).await;
    assert!(
        e.contains("`sleepy` is not a state") && e.contains("waiting_input"),
        "{e}"
    );
    let e = refused(
        &c,
        "send_keys",
        json!({"session": worker, "keys": ["hyper"]}),
    )
    .await;
    assert!(e.contains("`hyper` is not a key name"), "{e}");
    let big = "x".repeat(70 * 1024);
    let e = refused(&c, "send_message", json!({"session": worker, "text": big})).await;
    assert!(e.contains("more than the 65536"), "{e}");
    let e = refused(
        &c,
        "answer_approval",
        json!({"request": "p999", "decision": "allow"}),
    )
    .await;
    assert!(e.contains("no permission request `p999`"), "{e}");
    // A missing required argument names the field.
    let e = refused(&c, "send_message", json!({"session": "worker"})).await;
    assert!(e.contains("missing field `text`"), "{e}");
    // The connection still serves after all that.
    ok(&c, "list_sessions", json!({})).await;
}

#[tokio::test]
async fn an_agent_acts_on_its_own_session_only_and_asks_its_owner() {
    let env = Env::new();
    let _sup = env.up();
    let other = env.run(&["--name", "other"], &["sh"]);
    let (me, c) = client_in_session(&env, "agent", &[]).await;

    let list = ok(&c, "list_sessions", json!({})).await;
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, vec![me.as_str()], "an agent lists itself only");
    // Its own screen, without naming it.
    let own = ok(&c, "read_screen", json!({})).await;
    assert_eq!(own["session"], me.as_str());

    for (tool, args) in [
        ("read_screen", json!({"session": other})),
        ("send_message", json!({"session": "other", "text": "hi"})),
        ("wait_for", json!({"session": "other"})),
    ] {
        let e = refused(&c, tool, args).await;
        assert!(
            e.contains("agent profile") && e.contains("--orchestrator"),
            "{tool}: {e}"
        );
    }
    let e = refused(&c, "spawn_session", json!({"command": "sh", "cwd": "/"})).await;
    assert!(e.contains("needs the orchestrator role"), "{e}");

    // ask_owner: the question is a request in `paddock approvals`; the owner's answer comes
    // back as the tool's result.
    let ask = call(
        &c,
        "ask_owner",
        json!({"question": "Ship it today?", "choices": ["yes", "no"], "timeout_secs": 30}),
    );
    let owner = async {
        let env = &env;
        let mut id = None;
        eventually("the question in `paddock approvals`", async || {
            let list: Value =
                serde_json::from_str(&env.ok(&["approvals", "--json"])).expect("json");
            id = list.as_array().and_then(|a| {
                a.iter()
                    .find(|r| {
                        r["session"] == me.as_str()
                            && r["questions"][0]["question"] == "Ship it today?"
                    })
                    .and_then(|r| r["id"].as_str().map(str::to_owned))
            });
            id.is_some()
        })
        .await;
        let id = id.expect("request id");
        let shown = env.ok(&["approvals"]);
        assert!(shown.contains("Ship it today? [yes / no]"), "{shown}");
        env.ok(&["approve", &id, "--answer", "yes"]);
        id
    };
    let (answer, id) = tokio::join!(ask, owner);
    let answer = answer.structured_content.expect("answer");
    assert_eq!(answer["answered"], true, "{answer}");
    assert_eq!(answer["answer"], "yes");

    // Its own question cannot be answered by itself (it is not an orchestrator).
    let e = refused(
        &c,
        "answer_approval",
        json!({"request": id, "decision": "allow"}),
    )
    .await;
    assert!(e.contains("needs the orchestrator role"), "{e}");
}

#[tokio::test]
async fn an_orchestrator_answers_another_sessions_request_but_never_its_own() {
    let env = Env::new();
    let _sup = env.up();
    let (orch, c) = client_in_session(&env, "orch", &["--orchestrator"]).await;
    let (worker, w) = client_in_session(&env, "worker", &[]).await;

    // The worker asks with a short wait: it gets a ticket.
    let asked = ok(
        &w,
        "ask_owner",
        json!({"question": "Which branch?", "timeout_secs": 0}),
    )
    .await;
    assert_eq!(asked["answered"], false);
    let ticket = asked["ticket"].as_str().expect("ticket").to_owned();
    // The orchestrator's own question.
    let mine = ok(
        &c,
        "ask_owner",
        json!({"question": "Mine?", "timeout_secs": 0}),
    )
    .await;
    let mine = mine["ticket"].as_str().expect("ticket").to_owned();

    let pending = ok(&c, "list_approvals", json!({})).await;
    let sessions: Vec<&str> = pending["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["session"].as_str())
        .collect();
    assert!(
        sessions.contains(&worker.as_str()) && sessions.contains(&orch.as_str()),
        "{pending}"
    );

    let e = refused(
        &c,
        "answer_approval",
        json!({"request": mine, "decision": "deny"}),
    )
    .await;
    assert!(
        e.contains("your own session's") && e.contains("never answers its own"),
        "{e}"
    );
    let still = env.ok(&["approvals"]);
    assert!(
        still.contains("Mine?"),
        "the refused answer left the request open: {still}"
    );

    let answered = ok(
        &c,
        "answer_approval",
        json!({"request": ticket, "decision": "deny", "message": "not now"}),
    )
    .await;
    assert!(
        answered["detail"]
            .as_str()
            .is_some_and(|d| d.contains("denied")),
        "{answered}"
    );
    let got = ok(&w, "get_answer", json!({"ticket": ticket})).await;
    assert_eq!(got["answered"], true);
    assert!(
        got["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not now")),
        "{got}"
    );
}

#[tokio::test]
async fn a_caller_outside_any_session_is_an_agent_without_one() {
    let env = Env::new();
    let _sup = env.up();
    let s = env.run(&["--name", "s"], &["sh"]);
    let c = client_outside(&env).await;
    let list = ok(&c, "list_sessions", json!({})).await;
    assert_eq!(list["sessions"], json!([]));
    let e = refused(&c, "read_screen", json!({})).await;
    assert!(e.contains("runs in no Paddock session"), "{e}");
    let e = refused(&c, "read_screen", json!({"session": s})).await;
    assert!(e.contains("agent profile"), "{e}");
}

#[test]
fn paddock_mcp_without_a_supervisor_says_to_start_one() {
    let env = Env::new();
    let out = env.paddock(&["mcp"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("paddock up"), "{err}");
}
