//! Notifications end to end: the real Claude Code (against `paddock-fakeapi`) asks
//! permission under `paddock up`; a Web Push message reaches a loopback push service that
//! checks VAPID and decrypts it; a D-Bus notification with Approve and Deny appears on a
//! private session bus; pressing Approve runs the tool; pressing Deny afterwards is refused
//! and the owner is told who answered.

mod common;

use common::*;
use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::desktop::NotificationServer;
use paddock_fakeapi::push::{BrowserKeys, PushService};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::json;
use std::time::Duration;

/// Generous: Claude Code is a large program and the machine is shared.
const T: Duration = Duration::from_secs(90);

/// Subscribes a browser the way `POST /api/v1/notifications/web-push/subscriptions` stores
/// it (the route itself is covered in `endpoint.rs`).
fn subscribe(env: &Env, keys: &BrowserKeys) {
    let subs = json!([{
        "endpoint": keys.endpoint,
        "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
        "device": "d-phone",
        "device_name": "phone",
    }]);
    let dir = env.dir().join("data/notify");
    std::fs::create_dir_all(&dir).expect("data dir");
    std::fs::write(dir.join("web_push.json"), subs.to_string()).expect("subscriptions");
}

fn script(command: &str) -> Script {
    Script::new()
        .then(
            Reply::text("I will create the file.")
                .with_tool_use(
                    "Bash",
                    json!({"command": command, "description": "Create made.txt"}),
                )
                .when(When::UserSays("please make a file".into()))
                .usage(Usage::new(1200, 40)),
        )
        .then(
            Reply::text("Done: made.txt exists.")
                .when(When::ToolResult)
                .usage(Usage::new(1300, 12)),
        )
}

#[test]
fn a_permission_request_reaches_web_push_and_the_desktop_and_approve_on_the_desktop_runs_the_tool()
{
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let env = Env::new();
    let desktop = NotificationServer::start(true).unwrap_or_else(|e| panic!("{e}"));
    let push = PushService::start().expect("push service");
    let browser = push.subscribe();
    subscribe(&env, &browser);
    let _sup = env.up_with(&[
        (
            "PADDOCK_NOTIFY__DESKTOP__BUS_ADDRESS".into(),
            desktop.address().to_owned(),
        ),
        (
            "PADDOCK_NOTIFY__WEB_PUSH__CONTACT".into(),
            "mailto:owner@example.com".into(),
        ),
    ]);

    let command = "echo approved-from-the-desktop > made.txt";
    let fake = FakeApi::start(script(command)).expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    let mut cmd = env.cmd();
    sandbox.apply(&mut cmd);
    let out = cmd
        .args([
            "run", "--name", "claude", "--cols", "120", "--rows", "40", "--",
        ])
        .arg(&claude)
        .args([
            "--permission-mode",
            "manual",
            "--settings",
            &sandbox.recording_settings(),
        ])
        .output()
        .expect("paddock run");
    assert!(
        out.status.success(),
        "paddock run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    wait_until("Claude Code's prompt", T, || {
        env.ok(&["logs", &id]).contains("? for shortcuts")
    });
    wait_until("the session idle, known by its hooks", T, || {
        env.ls()
            .iter()
            .any(|r| r["id"] == id.as_str() && r["state"] == "idle")
    });

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
