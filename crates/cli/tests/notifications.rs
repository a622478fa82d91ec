//! Notifications end to end: the real Claude Code (against `paddock-fakeapi`) asks
//! permission under `paddock up`; a Web Push message reaches a loopback push service that
//! checks VAPID and decrypts it; a D-Bus notification with Approve and Deny appears on a
//! private session bus; pressing Approve runs the tool; pressing Deny afterwards is refused
//! and the owner is told who answered. An AskUserQuestion's notification carries the
//! question and its options: pressing one answers it, once, and the agent goes on with it.
//! The endpoint's notification routes: a browser's Web Push subscription and test, action
//! tokens, and the notification settings an admin changes.

#[path = "common/claude.rs"]
mod claude;
mod common;
#[path = "common/web.rs"]
mod web;

use common::*;
use paddock_fakeapi::agents::ClaudeSandbox;
use paddock_fakeapi::desktop::NotificationServer;
use paddock_fakeapi::push::{BrowserKeys, PushService};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::json;
use std::time::Duration;
use web::{relaxed, up_env, Web};

/// Generous: Claude Code is a large program and the machine is shared.
const T: Duration = Duration::from_secs(90);

/// Subscribes a browser the way `POST /api/v1/notifications/web-push/subscriptions` stores
/// it (the route itself is covered below, in
/// `a_browser_subscribes_to_web_push_a_test_reaches_it_and_a_bad_action_token_is_refused`).
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

/// Claude Code asks to run `touch <name>` for each prompt that names it.
fn touch_script(names: &[&str]) -> Script {
    let mut s = Script::new();
    for name in names {
        s = s.then(
            Reply::text("I will touch it.")
                .with_tool_use(
                    "Bash",
                    json!({"command": format!("touch {name}"), "description": "Touch a file"}),
                )
                .when(When::UserSays(format!("please touch {name}")))
                .usage(Usage::new(1200, 40)),
        );
    }
    s.then(
        Reply::text("Done.")
            .when(When::ToolResult)
            .usage(Usage::new(1300, 12))
            .times(0),
    )
}

/// The open permission request for `touch <name>`.
fn request_for(env: &Env, name: &str) -> serde_json::Value {
    let mut found = None;
    wait_until(&format!("the permission request for {name}"), T, || {
        let all: serde_json::Value =
            serde_json::from_str(&env.ok(&["approvals", "--json"])).expect("JSON");
        found = all.as_array().and_then(|a| {
            a.iter()
                .find(|r| r["input"]["command"] == format!("touch {name}").as_str())
                .cloned()
        });
        found.is_some()
    });
    found.expect("found")
}

/// The delivery log's entry for `channel` of the notification about `request`.
fn delivery(env: &Env, request: &str, channel: &str) -> serde_json::Value {
    let log: serde_json::Value =
        serde_json::from_str(&env.ok(&["notifications", "list", "--json"])).expect("JSON");
    let id = log["notifications"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["request"] == request))
        .map(|n| n["id"].clone())
        .unwrap_or_else(|| panic!("no notification about {request}: {log:#}"));
    log["deliveries"]
        .as_array()
        .and_then(|ds| {
            ds.iter()
                .find(|d| d["notification"] == id && d["channel"] == channel)
                .cloned()
        })
        .unwrap_or_else(|| panic!("no {channel} delivery of {id}: {log:#}"))
}

fn pushed_about(push: &PushService, request: &str) -> bool {
    push.delivered()
        .iter()
        .any(|d| d.json()["request"] == request)
}

#[test]
fn while_the_owner_types_into_an_attached_terminal_push_waits_and_once_they_leave_it_goes_at_once()
{
    let env = Env::new();
    let desktop = NotificationServer::start(true).unwrap_or_else(|e| panic!("{e}"));
    let push = PushService::start().expect("push service");
    subscribe(&env, &push.subscribe());
    let escalate_ms = 15_000;
    let _sup = env.up_with(&[
        (
            "PADDOCK_NOTIFY__DESKTOP__BUS_ADDRESS".into(),
            desktop.address().to_owned(),
        ),
        ("PADDOCK_NOTIFY__PRESENCE__ACTIVE_FOR".into(), "30s".into()),
        (
            "PADDOCK_NOTIFY__PRESENCE__ESCALATE_AFTER".into(),
            format!("{escalate_ms}ms"),
        ),
        // Only the permission requests, so that the push service hears nothing else.
        (
            "PADDOCK_NOTIFY__RULES__WAITING_INPUT".into(),
            "false".into(),
        ),
    ]);
    let fake = FakeApi::start(touch_script(&["one", "two", "three"])).expect("fake API");
    let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    claude::start_claude(
        &env,
        &sandbox,
        &["--name", "claude"],
        &["--permission-mode", "manual"],
        T,
    );
    let status = || -> serde_json::Value {
        serde_json::from_str(&env.ok(&["status", "--json"])).expect("status JSON")
    };
    assert_eq!(status()["presence"], json!([]), "nobody is there yet");

    // The owner attaches in a real terminal and types the prompt.
    let shell = format!(
        "env PADDOCK_RUNTIME_DIR={d} PADDOCK_DATA_DIR={d}/data PADDOCK_CONFIG_DIR={d}/conf TERM=xterm-256color {p} attach claude",
        d = env.dir().display(),
        p = common::PADDOCK,
    );
    let (tmux, pane) = TmuxServer::start(&env, 120, 40, &shell);
    wait_until("the attached screen", T, || {
        tmux.capture(&pane).contains("? for shortcuts")
    });
    let type_prompt = |text: &str| {
        tmux.keys(&pane, &["-l", text]);
        wait_until("the typed words on Claude Code's screen", T, || {
            tmux.capture(&pane).contains(text)
        });
        tmux.keys(&pane, &["Enter"]);
    };
    type_prompt("please touch one");
    wait_until("the owner at the desk, in paddock status", T, || {
        status()["presence"][0]["device"] == "desk"
    });
    let at_desk = env.ok(&["status"]);
    assert!(
        at_desk.contains("owner       at the desk: typed into"),
        "{at_desk}"
    );

    // Asked while the owner types: the desktop shows it, push is held, the owner answers.
    let one = request_for(&env, "one");
    let one_id = one["id"].as_str().expect("id").to_owned();
    desktop.wait_for("the first request on the desktop", T, |s| {
        s.body.contains("touch one")
    });
    let held = delivery(&env, &one_id, "web_push");
    assert_eq!(held["status"], "waiting", "{held:#}");
    assert!(
        held["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("held")),
        "{held:#}"
    );
    env.ok(&["approve", &one_id]);
    wait_until("the first push skipped as answered", T, || {
        delivery(&env, &one_id, "web_push")["status"] == "skipped"
    });
    let skipped = delivery(&env, &one_id, "web_push");
    assert!(
        skipped["error"]
            .as_str()
            .is_some_and(|e| e.contains("answered before it was escalated")),
        "{skipped:#}"
    );
    assert!(
        !pushed_about(&push, &one_id),
        "a push went out while the owner typed:\n{}",
        push.log()
    );

    // Asked while the owner is still there but does not answer: push follows after the delay.
    type_prompt("please touch two");
    let two = request_for(&env, "two");
    let two_id = two["id"].as_str().expect("id").to_owned();
    let escalated = push.wait_for("the second request escalated to push", T, |d| {
        d.json()["request"] == two_id.as_str()
    });
    assert_eq!(escalated.json()["tool"], "Bash");
    let late = delivery(&env, &two_id, "web_push");
    assert_eq!(late["status"], "delivered", "{late:#}");
    assert!(
        late["latency_ms"]
            .as_u64()
            .is_some_and(|l| l >= escalate_ms),
        "pushed before the escalation delay: {late:#}"
    );
    env.ok(&["approve", &two_id]);

    // The owner leaves: once the presence window passed, a request goes to push at once.
    wait_until(
        "the owner away, in paddock status",
        Duration::from_secs(120),
        || status()["presence"] == json!([]),
    );
    env.ok(&["message", "claude", "please touch three"]);
    let three = request_for(&env, "three");
    let three_id = three["id"].as_str().expect("id").to_owned();
    push.wait_for("the third request pushed", T, |d| {
        d.json()["request"] == three_id.as_str()
    });
    let at_once = delivery(&env, &three_id, "web_push");
    assert_eq!(at_once["status"], "delivered", "{at_once:#}");
    assert!(
        at_once["latency_ms"]
            .as_u64()
            .is_some_and(|l| l < escalate_ms),
        "nobody was present, yet push waited: {at_once:#}"
    );
    env.ok(&["approve", &three_id]);
    drop(tmux);
}

#[test]
fn the_delivery_log_survives_a_restart_of_the_supervisor_and_numbering_goes_on() {
    let env = Env::new();
    let desktop = NotificationServer::start(true).unwrap_or_else(|e| panic!("{e}"));
    let vars = [(
        "PADDOCK_NOTIFY__DESKTOP__BUS_ADDRESS".to_owned(),
        desktop.address().to_owned(),
    )];
    let sup = env.up_with(&vars);
    let sent = env.ok(&["notifications", "test", "desktop"]);
    assert!(sent.contains("desktop Delivered"), "{sent}");
    let before = env.ok(&["notifications", "show", "n1"]);
    assert!(before.contains("Paddock test notification"), "{before}");
    drop(sup);

    let _sup = env.up_with(&vars);
    let after = env.ok(&["notifications", "show", "n1"]);
    assert_eq!(after, before, "the log read back after a restart");
    assert!(after.contains("desktop Delivered"), "{after}");
    env.ok(&["notifications", "test", "desktop"]);
    let log: serde_json::Value =
        serde_json::from_str(&env.ok(&["notifications", "list", "--json"])).expect("JSON");
    let ids: Vec<&str> = log["notifications"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(ids, ["n2", "n1"], "{log:#}");
    assert_eq!(
        log["deliveries"]
            .as_array()
            .map(|d| d.iter().filter(|d| d["status"] == "delivered").count()),
        Some(2),
        "{log:#}"
    );
}

#[test]
fn a_session_busy_above_the_cpu_level_for_the_duration_is_notified() {
    let env = Env::new();
    let _sup = env.up_with(&[
        (
            "PADDOCK_NOTIFY__RULES__RESOURCES__CPU_PERCENT".into(),
            "30".into(),
        ),
        ("PADDOCK_NOTIFY__RULES__RESOURCES__FOR".into(), "2s".into()),
        // Not the machine's own load (other tests run beside this one).
        (
            "PADDOCK_NOTIFY__RULES__RESOURCES__HOST_MEMORY_PERCENT".into(),
            "101".into(),
        ),
    ]);
    env.run(&["--name", "spin"], &["sh", "-c", "while :; do :; done"]);
    let mut log = serde_json::Value::Null;
    wait_until("a resource notification about spin", T, || {
        log = serde_json::from_str(&env.ok(&["notifications", "list", "--json"])).expect("JSON");
        log["notifications"].as_array().is_some_and(|ns| {
            ns.iter()
                .any(|n| n["kind"] == "resource" && n["session_name"] == "spin")
        })
    });
    let about_spin: Vec<&serde_json::Value> = log["notifications"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|n| n["kind"] == "resource" && n["session_name"] == "spin")
        .collect();
    assert_eq!(about_spin.len(), 1, "{log:#}");
    assert!(
        about_spin[0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("spin: cpu at")),
        "{log:#}"
    );
}

#[test]
fn an_owner_rule_with_a_pattern_on_the_terminal_notifies_when_it_appears() {
    let env = Env::new();
    let conf = env.dir().join("conf");
    std::fs::create_dir_all(&conf).expect("conf dir");
    std::fs::write(
        conf.join("config.toml"),
        "[[notify.rules.custom]]\nname = \"tests failed\"\nsession = \"build*\"\noutput = 'FAILED \\d+'\n",
    )
    .expect("config");
    let _sup = env.up();
    env.run(
        &["--name", "other"],
        &["sh", "-c", "echo FAILED 9 here too; exec sleep 600"],
    );
    env.run(
        &["--name", "build"],
        &[
            "sh",
            "-c",
            "for i in $(seq 1 2000); do echo line $i; done; echo 'test result: FAILED 3 of 10'; exec sleep 600",
        ],
    );
    let mut log = serde_json::Value::Null;
    wait_until("the rule's notification", T, || {
        log = serde_json::from_str(&env.ok(&["notifications", "list", "--json"])).expect("JSON");
        log["notifications"]
            .as_array()
            .is_some_and(|ns| !ns.is_empty())
    });
    let n = &log["notifications"][0];
    assert_eq!(n["rule"], "custom:tests failed", "{log:#}");
    assert_eq!(n["title"], "build: tests failed", "{log:#}");
    assert_eq!(n["body"], "test result: FAILED 3 of 10", "{log:#}");
    let ids = log["notifications"].as_array().map(Vec::len);
    assert_eq!(
        ids,
        Some(1),
        "`other` does not match the rule's name: {log:#}"
    );
}

#[tokio::test]
async fn a_browser_subscribes_to_web_push_a_test_reaches_it_and_a_bad_action_token_is_refused() {
    let env = Env::new();
    let (_sup, web) = web::up(&env);
    let push = paddock_fakeapi::push::PushService::start().expect("push service");
    let browser = push.subscribe();
    let operator = web.token(&env, "operator").await;
    let admin = web.token(&env, "admin").await;

    let info = web
        .call(
            "GET",
            "/api/v1/notifications/web-push",
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.body["enabled"], true);
    let key = info.body["public_key"].as_str().expect("the VAPID key");
    assert_eq!(key.len(), 87, "65 bytes, base64url: {key}");

    let bad = web
        .call(
            "POST",
            "/api/v1/notifications/web-push/subscriptions",
            Some(&operator),
            Some(json!({"endpoint": "http://push.example.com/x", "keys": {"p256dh": browser.p256dh, "auth": browser.auth}})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("https")),
        "{}",
        bad.body
    );
    let sub = web
        .call(
            "POST",
            "/api/v1/notifications/web-push/subscriptions",
            Some(&operator),
            Some(json!({"endpoint": browser.endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}})),
        )
        .await;
    assert_eq!(sub.status, 200, "{}", sub.body);
    assert_eq!(sub.body["device_name"], "operator device", "{}", sub.body);

    let sent = web.test_notification("web_push", &admin).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["status"], "delivered", "{}", sent.body);
    let got = push.wait_for("the test notification", Duration::from_secs(10), |d| {
        d.json()["title"] == "Paddock test notification"
    });
    assert_eq!(got.claims["aud"], push.origin());
    let log = web
        .call("GET", "/api/v1/notifications", Some(&operator), None)
        .await;
    assert_eq!(log.body["notifications"][0]["kind"], "test", "{}", log.body);

    let none = web.test_notification("pager", &admin).await;
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(
        none.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("web_push")),
        "{}",
        none.body
    );

    let forged = web
        .call(
            "POST",
            "/api/v1/notifications/act",
            None,
            Some(json!({"token": "pna_AAAAAAAAAAAAAAAA.AAAA"})),
        )
        .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(
        forged.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid")),
        "{}",
        forged.body
    );
}

#[tokio::test]
async fn an_admin_changes_notification_settings_they_hold_at_once_and_after_a_restart_and_bad_ones_change_nothing(
) {
    let env = Env::new();
    let config = env.dir().join("conf/config.toml");
    std::fs::create_dir_all(env.dir().join("conf")).expect("conf dir");
    std::fs::write(
        &config,
        "# the owner's own words\n[notify]\ncooldown = \"2m\" # two minutes\n",
    )
    .expect("config");
    let sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let viewer = web.token(&env, "viewer").await;

    let read = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["settings"]["cooldown_secs"], 120, "{}", read.body);
    let channels = read.body["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 9, "{}", read.body);
    let web_push = channels
        .iter()
        .find(|c| c["name"] == "web_push")
        .expect("web_push listed");
    assert_eq!(web_push["configured"], true, "{}", read.body);
    let ntfy = channels.iter().find(|c| c["name"] == "ntfy").expect("ntfy");
    assert_eq!(ntfy["configured"], false);
    assert!(
        ntfy["detail"]
            .as_str()
            .is_some_and(|d| d.contains("[notify.ntfy]")),
        "{}",
        read.body
    );
    let devices = read.body["settings"]["devices"]
        .as_array()
        .expect("devices");
    let viewer_device = devices
        .iter()
        .find(|d| d["name"] == "viewer device")
        .expect("the viewer's device is listed")["device"]
        .clone();

    let mut settings = read.body["settings"].clone();
    settings["paused"] = json!(true);
    settings["rules"]["waiting_input"] = json!(false);
    settings["quiet_hours"] = json!({"start": "22:00", "end": "07:30", "permissions_too": false});
    settings["devices"] = json!([{"device": viewer_device, "push": "permissions"}]);
    let refused = web
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            Some(&viewer),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let changed = web
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            Some(&admin),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let now = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(now.body["settings"]["paused"], true, "in force at once");
    assert_eq!(now.body["settings"]["rules"]["waiting_input"], false);
    let text = std::fs::read_to_string(&config).expect("config.toml");
    assert!(
        text.contains("# the owner's own words") && text.contains("# two minutes"),
        "{text}"
    );
    assert!(text.contains("paused = true"), "{text}");

    let before = text.clone();
    for (field, value, says) in [
        ("cooldown_secs", json!(999_999), "cooldown_secs"),
        (
            "quiet_hours",
            json!({"start": "25:00", "end": "07:00", "permissions_too": false}),
            "HH:MM",
        ),
        (
            "devices",
            json!([{"device": "nosuch", "push": "off"}]),
            "paddock devices",
        ),
    ] {
        let mut bad = settings.clone();
        bad[field] = value;
        let r = web
            .call(
                "PUT",
                "/api/v1/notifications/settings",
                Some(&admin),
                Some(bad),
            )
            .await;
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{field}: {}",
            r.body
        );
    }
    let mut wrong_type = settings.clone();
    wrong_type["paused"] = json!("yes");
    let r = web
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            Some(&admin),
            Some(wrong_type),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        before,
        "nothing written"
    );

    drop(sup);
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let after = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(
        after.body["settings"]["paused"], true,
        "kept across a restart"
    );
    assert_eq!(after.body["settings"]["quiet_hours"]["end"], "07:30");
    let route = after.body["settings"]["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["device"] == viewer_device).cloned())
        .expect("the viewer's route");
    assert_eq!(route["push"], "permissions", "{}", after.body);

    // The CLI's resume goes through the same code: in force at once and in the file.
    let said = env.ok(&["notifications", "resume"]);
    assert!(said.contains("resumed"), "{said}");
    let resumed = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(
        resumed.body["settings"]["paused"], false,
        "{}",
        resumed.body
    );
    let text = std::fs::read_to_string(&config).expect("config.toml");
    assert!(text.contains("paused = false"), "{text}");
    assert!(text.contains("# two minutes"), "{text}");
}
