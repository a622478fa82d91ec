//! ntfy end to end, with a real supervisor: a permission request becomes a message with
//! Approve and Deny on the owner's topic; tapping Approve (the request the phone app makes)
//! publishes the action token to the reply topic, which the host hears and redeems: the
//! request is allowed and its message cleared; tapping Deny afterwards is refused, and the
//! owner is told who answered. `paddock notifications test ntfy` succeeds, and says why when
//! the token is wrong.

use super::ntfy_server::{press, FakeNtfy};
use super::support::until;
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::NtfyConfig;
use paddock_core::permissions::NewRequest;
use paddock_proto::agent::{AnswerChannel, Decision};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

struct Host {
    _tmp: tempfile::TempDir,
    sup: paddock_core::Supervisor,
}

fn start(ntfy: NtfyConfig) -> Host {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = paddock_core::Config {
        data_dir: Some(tmp.path().join("data")),
        ..Default::default()
    };
    config.notify.public_url = Some("https://box.tailnet.test:7420".into());
    config.notify.ntfy = ntfy;
    let dir = paddock_host::RuntimeDir::open(tmp.path().join("run")).expect("runtime dir");
    let sup = paddock_core::Supervisor::start(config, tmp.path().join("config.toml"), dir)
        .expect("supervisor");
    paddock_channels::start(sup.handle());
    Host { _tmp: tmp, sup }
}

fn ntfy_config(server: &FakeNtfy, token: &str) -> NtfyConfig {
    NtfyConfig {
        enabled: true,
        url: server.url(),
        topic: "paddock_phone".into(),
        reply_topic: None,
        token: Secret::new(token),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_on_the_phone_allows_the_request_clears_it_and_a_late_deny_is_told_who_answered() {
    let server = FakeNtfy::start(Some("tk_owner")).await;
    let host = start(ntfy_config(&server, "tk_owner"));
    let handle = host.sup.handle().clone();
    let (request, decided) = handle.permissions().open(NewRequest {
        session: paddock_proto::SessionId::from_random(11),
        agent_session: None,
        tool: "Bash".into(),
        input: json!({"command": "cargo test --workspace"}),
        suggestions: vec![],
        channel: AnswerChannel::Hook,
        timeout: Duration::from_secs(120),
    });

    let message = until(
        "the permission message on the owner's topic",
        WAIT,
        || async { server.messages("paddock_phone").into_iter().next() },
    )
    .await;
    assert_eq!(message["title"], "an agent asks to run Bash", "{message}");
    assert!(
        message["message"]
            .as_str()
            .unwrap_or("")
            .contains("cargo test --workspace"),
        "{message}"
    );
    assert_eq!(message["priority"], 4);
    let click = message["click"].as_str().unwrap_or("");
    assert!(
        click.starts_with("https://box.tailnet.test:7420/#/sessions/"),
        "{click}"
    );
    assert!(
        click.ends_with(&format!("?request={}", request.id)),
        "{click}"
    );
    let actions = message["actions"].as_array().cloned().unwrap_or_default();
    let labels: Vec<&str> = actions.iter().filter_map(|a| a["label"].as_str()).collect();
    assert_eq!(labels, ["Approve", "Deny", "Open"], "{message}");
    let approve = &actions[0];
    assert_eq!(approve["action"], "http");
    assert_eq!(
        approve["url"],
        format!("{}/paddock_phone-answers", server.url())
    );
    assert!(
        approve["body"].as_str().unwrap_or("").starts_with("pna_"),
        "a single-use token"
    );
    assert_ne!(
        approve["body"], actions[1]["body"],
        "each action has its own token"
    );

    until("the host subscribed to the reply topic", WAIT, || async {
        (server.subscribers() > 0).then_some(())
    })
    .await;
    assert!(press(approve).await.is_success(), "ntfy took the tap");
    let decision = tokio::time::timeout(WAIT, decided)
        .await
        .expect("the request is answered in time")
        .expect("answered, not dropped");
    assert_eq!(decision, Decision::Allow);
    let answered = handle.permissions().get(&request.id).expect("request");
    let by = format!("{:?}", answered.outcome);
    assert!(by.contains("ntfy notification"), "{by}");

    let id = message["id"].as_str().expect("message id").to_owned();
    until(
        "the answered message cleared from the phones",
        WAIT,
        || async {
            server
                .clears()
                .contains(&("paddock_phone".to_owned(), id.clone()))
                .then_some(())
        },
    )
    .await;

    assert!(press(&actions[1]).await.is_success());
    let refusal = until(
        "the owner told why the late Deny was not taken",
        WAIT,
        || async {
            server
                .messages("paddock_phone")
                .into_iter()
                .find(|m| m["title"] == "Not taken")
        },
    )
    .await;
    let text = refusal["message"].as_str().unwrap_or("");
    assert!(
        text.contains("already allowed by ntfy notification"),
        "{text}"
    );
    assert!(refusal
        .get("actions")
        .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty)));
    host.sup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_notification_reaches_ntfy_and_a_wrong_token_is_a_clear_error() {
    let server = FakeNtfy::start(Some("tk_owner")).await;
    let host = start(ntfy_config(&server, "tk_owner"));
    let handle = host.sup.handle().clone();
    let view = handle
        .test_notify_channel("ntfy")
        .await
        .expect("test delivered");
    assert_eq!(view.channel, "ntfy");
    let sent = server.messages("paddock_phone");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["title"], "Paddock test notification");
    assert!(
        sent[0]["actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["action"] != "http")),
        "a test has no answers"
    );

    let wrong =
        paddock_channels::ntfy::Ntfy::new(&ntfy_config(&server, "tk_stolen")).expect("channel");
    handle.add_notify_channel(Arc::new(wrong));
    let err = handle
        .test_notify_channel("ntfy")
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("ntfy refused the credentials (403"), "{text}");
    assert!(text.contains("check the token"), "{text}");
    assert_eq!(
        server.messages("paddock_phone").len(),
        1,
        "nothing more was published"
    );
    host.sup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_for_a_moment_is_tried_again_and_the_notification_arrives() {
    let server = FakeNtfy::start(None).await;
    let host = start(ntfy_config(&server, ""));
    server.go_down_for(1);
    let view = host
        .sup
        .handle()
        .test_notify_channel("ntfy")
        .await
        .expect("delivered on the second attempt");
    assert_eq!(view.attempts, 2, "{view:?}");
    assert_eq!(server.messages("paddock_phone").len(), 1, "delivered once");
    host.sup.stop().await;
}
