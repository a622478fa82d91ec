//! When a notification goes out: held while the owner types, the delivery log across
//! restarts, and the owner's rules (CPU level, a pattern on the terminal).

use crate::claude;
use crate::common;
use crate::common::*;
use crate::support::{subscribe, T};
use paddock_fakeapi::agents::ClaudeSandbox;
use paddock_fakeapi::desktop::NotificationServer;
use paddock_fakeapi::push::PushService;
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::json;
use std::time::Duration;

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
