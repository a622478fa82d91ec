//! The real Claude Code's permission requests and questions, notified by Web Push and on the
//! desktop, and answered from the notification.

use crate::claude;
use crate::common::*;
use crate::support::{subscribe, T};
use paddock_fakeapi::agents::ClaudeSandbox;
use paddock_fakeapi::desktop::NotificationServer;
use paddock_fakeapi::push::{BrowserKeys, PushService};
use paddock_fakeapi::{FakeApi, Reply, Script, When};
use serde_json::json;

/// Starts the real Claude Code under `paddock run` in `sandbox` (permissions asked, hooks to
/// Paddock) and waits until it is idle at its prompt: its session id.
fn run_claude(env: &Env, sandbox: &ClaudeSandbox) -> String {
    let settings = sandbox.recording_settings();
    let id = claude::start_claude(
        env,
        sandbox,
        &["--name", "claude"],
        &["--permission-mode", "manual", "--settings", &settings],
        T,
    );
    env.wait_row(&id, "idle, known by its hooks", T, |r| r["state"] == "idle");
    id
}

/// `paddock up` with a private D-Bus notification server and a Web Push subscription.
fn up(env: &Env, desktop: &NotificationServer, browser: &BrowserKeys) -> Supervisor {
    subscribe(env, browser);
    env.up_with(&[
        (
            "PADDOCK_NOTIFY__DESKTOP__BUS_ADDRESS".into(),
            desktop.address().to_owned(),
        ),
        (
            "PADDOCK_NOTIFY__WEB_PUSH__CONTACT".into(),
            "mailto:owner@example.com".into(),
        ),
    ])
}

#[test]
fn a_permission_request_reaches_web_push_and_the_desktop_and_approve_on_the_desktop_runs_the_tool()
{
    let env = Env::new();
    let desktop = NotificationServer::start(true).unwrap_or_else(|e| panic!("{e}"));
    let push = PushService::start().expect("push service");
    let browser = push.subscribe();
    let _sup = up(&env, &desktop, &browser);

    let command = "echo approved-from-the-desktop > made.txt";
    let fake = FakeApi::start(claude::bash_then_text(command, "Done: made.txt exists."))
        .expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    let id = run_claude(&env, &sandbox);
    env.ok(&["message", "claude", "please make a file"]);

    // Web Push: VAPID checked and the payload decrypted by the push service.
    let pushed = push.wait_for("the permission request as a Web Push message", T, |d| {
        d.json()["kind"] == "show"
    });
    let p = pushed.json();
    assert_eq!(p["tool"], "Bash", "{p:#}");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains(command)),
        "{p:#}"
    );
    assert!(
        p["title"].as_str().is_some_and(|t| t.contains("Bash")),
        "{p:#}"
    );
    assert_eq!(p["actions"][0]["action"], "allow", "{p:#}");
    assert_eq!(p["actions"][1]["action"], "deny", "{p:#}");
    assert!(
        p["actions"][0]["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("pna_")),
        "{p:#}"
    );
    assert!(
        p["url"]
            .as_str()
            .is_some_and(|u| u.contains(&format!("/#/sessions/{id}"))),
        "{p:#}"
    );
    assert_eq!(pushed.urgency.as_deref(), Some("high"));
    assert_eq!(pushed.claims["sub"], "mailto:owner@example.com");
    let made = sandbox.project().join("made.txt");
    assert!(!made.exists(), "the tool ran before anyone allowed it");

    // The desktop: Approve and Deny, then Approve pressed.
    let shown = desktop.wait_for("the permission request on the desktop", T, |s| {
        s.summary.contains("Bash") && s.body.contains(command)
    });
    assert_eq!(
        shown.actions,
        ["allow", "Approve", "deny", "Deny"],
        "{shown:?}"
    );
    assert_eq!(shown.urgency, Some(2), "a permission request is critical");
    desktop.invoke(shown.id, "allow");
    wait_until("made.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-from-the-desktop\n")
    });
    let result = fake.wait_for("the Bash tool's result", T, |r| {
        !r.tool_results().is_empty()
    });
    assert!(
        !result.tool_results()[0].is_error,
        "{:?}",
        result.tool_results()
    );

    // Answered: the desktop notification is closed and the push replaced by the outcome.
    desktop.wait_for("the answered notification closed", T, |s| {
        s.id == shown.id && s.closed
    });
    let update = push.wait_for("the Web Push notification updated", T, |d| {
        d.json()["kind"] == "withdraw"
    });
    assert_eq!(
        update.json()["tag"],
        p["tag"],
        "the same tag replaces the first one"
    );
    assert!(
        update.json()["body"]
            .as_str()
            .is_some_and(|b| b.contains("by desktop notification")),
        "{}",
        update.json()
    );

    // Deny pressed afterwards: refused, and the owner is told who answered.
    desktop.invoke(shown.id, "deny");
    let refused = desktop.wait_for("the refusal of the late Deny", T, |s| {
        s.summary.contains("not taken")
    });
    assert!(
        refused
            .body
            .contains("already allowed by desktop notification at"),
        "{refused:?}"
    );
    let approvals: serde_json::Value =
        serde_json::from_str(&env.ok(&["approvals", "--all", "--json"])).expect("JSON");
    let decided = &approvals[0]["outcome"];
    assert_eq!(decided["by"], "desktop notification", "{approvals:#}");

    // The log, and a test send through each channel.
    let listed = env.ok(&["notifications", "list"]);
    assert!(
        listed.contains("claude asks to run Bash") && listed.contains("desktop withdrawn"),
        "{listed}"
    );
    let sent = env.ok(&["notifications", "test", "web_push"]);
    assert!(sent.contains("web_push Delivered"), "{sent}");
    push.wait_for("the test message", T, |d| {
        d.json()["title"] == "Paddock test notification"
    });
    let sent = env.ok(&["notifications", "test", "desktop"]);
    assert!(sent.contains("desktop Delivered"), "{sent}");
    let bad = env.paddock(&["notifications", "test", "pager"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("no notification channel `pager`") && err.contains("desktop"),
        "{err}"
    );
}

#[test]
fn an_ask_user_question_notification_offers_its_options_and_pressing_one_answers_it_once() {
    let env = Env::new();
    let desktop = NotificationServer::start(true).unwrap_or_else(|e| panic!("{e}"));
    let push = PushService::start().expect("push service");
    let browser = push.subscribe();
    let _sup = up(&env, &desktop, &browser);

    let question = "Which colour should the button be?";
    let input = json!({"questions": [{"question": question, "header": "Colour", "multiSelect": false,
        "options": [{"label": "Red", "description": "Bold"}, {"label": "Blue", "description": "Calm"}]}]});
    let fake = FakeApi::start(
        Script::new()
            .then(Reply::tool_use("AskUserQuestion", input).when(When::UserSays("paint".into())))
            .then(Reply::text("Painting it blue.").when(When::ToolResult)),
    )
    .expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    run_claude(&env, &sandbox);
    env.ok(&["message", "claude", "paint the button"]);

    // Web Push carries the question and a token per option, then Deny.
    let pushed = push.wait_for("the question as a Web Push message", T, |d| {
        d.json()["kind"] == "show"
    });
    let p = pushed.json();
    assert_eq!(p["body"], question, "{p:#}");
    let keys: Vec<(&str, &str)> = p["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap_or(""),
                a["title"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [("answer-0", "Red"), ("answer-1", "Blue"), ("deny", "Deny")],
        "{p:#}"
    );

    // The desktop: the question, its options as buttons; Blue pressed.
    let shown = desktop.wait_for("the question on the desktop", T, |s| {
        s.body.contains(question)
    });
    assert!(shown.summary.contains("asks you a question"), "{shown:?}");
    assert_eq!(
        shown.actions,
        ["answer-0", "Red", "answer-1", "Blue", "deny", "Deny"],
        "{shown:?}"
    );
    desktop.invoke(shown.id, "answer-1");
    let answered = fake.wait_for("the question's answer reaching the model", T, |r| {
        !r.tool_results().is_empty()
    });
    let result = &answered.tool_results()[0];
    assert!(!result.is_error, "{result:?}");
    assert!(
        result.text.contains("Blue"),
        "the answer is the option pressed: {result:?}"
    );
    wait_until("the agent going on with that choice", T, || {
        fake.log().contains("Painting it blue.")
    });

    // Audited like a tap in the Chat tab; pressing another option afterwards is refused.
    let approvals: serde_json::Value =
        serde_json::from_str(&env.ok(&["approvals", "--all", "--json"])).expect("JSON");
    let decided = &approvals[0]["outcome"];
    assert_eq!(decided["by"], "desktop notification", "{approvals:#}");
    assert_eq!(decided["decision"]["behavior"], "answer", "{approvals:#}");
    assert_eq!(
        decided["decision"]["answers"][question], "Blue",
        "{approvals:#}"
    );
    desktop.invoke(shown.id, "answer-0");
    let refused = desktop.wait_for("the refusal of the late Red", T, |s| {
        s.summary.contains("not taken")
    });
    assert!(
        refused
            .body
            .contains("already answered by desktop notification at"),
        "{refused:?}"
    );
    let answered: Vec<_> = approvals
        .as_array()
        .expect("approvals")
        .iter()
        .filter(|a| a["outcome"]["kind"] == "decided")
        .collect();
    assert_eq!(answered.len(), 1, "answered exactly once: {approvals:#}");
}
