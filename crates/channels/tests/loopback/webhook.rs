//! Signed webhooks against a receiver that does what the documentation asks of one: verify
//! `Paddock-Signature` over the raw body and `Paddock-Timestamp`, refuse otherwise.

use super::support::{permission, Served, UI};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use paddock_channels::webhook::{verify, Webhook};
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::WebhookConfig;
use paddock_core::notify::{Channel, Receipt, Withdrawal};
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub const SECRET: &str = "3f1c9a7e5b2d4f608192a3b4c5d6e7f8";

pub type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

async fn receiver(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let now = super::support::now();
    if verify(
        SECRET.as_bytes(),
        &h("paddock-timestamp"),
        &h("paddock-signature"),
        &body,
        now,
    )
    .is_err()
    {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(v) = serde_json::from_slice(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    seen.lock().expect("lock").push((headers, v));
    StatusCode::NO_CONTENT
}

/// A receiver that verifies every request; the hook is `<url>/hook`.
pub async fn receiver_server() -> (Served, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/hook", post(receiver))
        .with_state(seen.clone());
    (Served::start(app).await, seen)
}

pub fn config(url: String, secret: &str) -> WebhookConfig {
    WebhookConfig {
        enabled: true,
        url,
        secret: Secret::new(secret),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_receiver_verifies_each_signed_post_and_refuses_another_secret() {
    let (server, seen) = receiver_server().await;
    let url = format!("{}/hook", server.url());
    let out = permission();
    let channel = Webhook::new(&config(url.clone(), SECRET)).expect("channel");
    channel.deliver(&out).await.expect("verified and taken");
    channel
        .withdraw(
            &out,
            &Receipt::default(),
            &Withdrawal {
                text: "Denied by desktop notification".into(),
            },
        )
        .await
        .expect("withdrawal taken");
    let seen_now = seen.lock().expect("lock").clone();
    assert_eq!(seen_now.len(), 2);
    let (headers, first) = &seen_now[0];
    assert_eq!(headers["paddock-event"], "notification");
    assert_eq!(headers["paddock-delivery"], "n7");
    assert_eq!(
        first["notification"]["title"],
        "api-refactor asks to run Bash"
    );
    assert_eq!(first["notification"]["request"], "p3");
    assert_eq!(first["link"], format!("{UI}/#/sessions/s7?request=p3"));
    assert_eq!(first["actions"][0]["label"], "Approve");
    assert_eq!(first["actions"][0]["url"], format!("{UI}/#act=pna_allow"));
    let (headers, second) = &seen_now[1];
    assert_eq!(headers["paddock-event"], "withdrawn");
    assert_eq!(second["reason"], "Denied by desktop notification");
    assert_eq!(
        second["actions"],
        serde_json::json!([]),
        "nothing left to answer"
    );

    let forged = Webhook::new(&config(url, "another-secret-of-32-characters!")).expect("channel");
    let err = forged.deliver(&out).await.expect_err("refused");
    assert!(err.to_string().contains("401"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(
        seen.lock().expect("lock").len(),
        2,
        "the forged post was not taken"
    );
}
