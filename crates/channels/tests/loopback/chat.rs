//! Slack and Discord incoming webhooks against loopback receivers that check what each
//! service requires of a message (Slack: `text` with Block Kit blocks within their limits;
//! Discord: embeds within theirs, `?wait=true` answering the message, edits by id).

use super::support::{permission, Served, UI};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};
use paddock_channels::chat::{Chat, Service};
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::ChatWebhookConfig;
use paddock_core::notify::{Channel, ChannelError, Withdrawal};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub type Seen = Arc<Mutex<Vec<Value>>>;

fn plain_text(v: &Value, max: usize) -> Result<(), String> {
    if v["type"] != "plain_text" {
        return Err(format!("text must be plain_text: {v}"));
    }
    let n = v["text"]
        .as_str()
        .map(|t| t.chars().count())
        .ok_or("no text")?;
    if n == 0 || n > max {
        return Err(format!("text of {n} characters (1..={max})"));
    }
    Ok(())
}

/// Slack's checks of an incoming webhook's message.
fn slack_check(v: &Value) -> Result<(), String> {
    let text = v["text"].as_str().unwrap_or("");
    let blocks = v["blocks"].as_array();
    if text.is_empty() && blocks.is_none() {
        return Err("no_text".into());
    }
    let blocks = blocks.cloned().unwrap_or_default();
    if blocks.len() > 50 {
        return Err("invalid_blocks: more than 50".into());
    }
    for b in &blocks {
        match b["type"].as_str() {
            Some("header") => plain_text(&b["text"], 150)?,
            Some("section") => {
                let t = &b["text"];
                if !["mrkdwn", "plain_text"].contains(&t["type"].as_str().unwrap_or("")) {
                    return Err("invalid_blocks: section text type".into());
                }
                let n = t["text"].as_str().map(|s| s.chars().count()).unwrap_or(0);
                if n == 0 || n > 3000 {
                    return Err("invalid_blocks: section text length".into());
                }
            }
            Some("actions") => {
                let els = b["elements"]
                    .as_array()
                    .ok_or("invalid_blocks: no elements")?;
                if els.is_empty() || els.len() > 25 {
                    return Err("invalid_blocks: elements".into());
                }
                for e in els {
                    if e["type"] != "button" {
                        return Err("invalid_blocks: element type".into());
                    }
                    plain_text(&e["text"], 75)?;
                    let url = e["url"].as_str().unwrap_or("");
                    if url.len() > 3000
                        || !(url.starts_with("https://") || url.starts_with("http://"))
                    {
                        return Err("invalid_blocks: button url".into());
                    }
                }
            }
            other => return Err(format!("invalid_blocks: unknown block {other:?}")),
        }
    }
    Ok(())
}

async fn slack(State(seen): State<Seen>, Path(hook): Path<String>, body: Bytes) -> Response {
    if hook != "T0001/B0001/secretkey" {
        return (StatusCode::NOT_FOUND, "no_service").into_response();
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    if let Err(e) = slack_check(&v) {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    seen.lock().expect("lock").push(v);
    (StatusCode::OK, "ok").into_response()
}

/// Discord's checks of a webhook message's embeds.
fn discord_check(v: &Value) -> Result<(), String> {
    let embeds = v["embeds"]
        .as_array()
        .ok_or("Cannot send an empty message")?;
    if embeds.is_empty() || embeds.len() > 10 {
        return Err("embeds: 1 to 10".into());
    }
    let len = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
    let mut total = 0;
    for e in embeds {
        for (field, max) in [("title", 256), ("description", 4096)] {
            if len(&e[field]) > max {
                return Err(format!(
                    "embeds.0.{field}: Must be {max} or fewer in length."
                ));
            }
            total += len(&e[field]);
        }
        if let Some(url) = e.get("url") {
            let url = url.as_str().unwrap_or("");
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("embeds.0.url: Not a well formed URL.".into());
            }
        }
        if e["color"].as_u64().is_none_or(|c| c > 0xFF_FFFF) {
            return Err("embeds.0.color: not a colour".into());
        }
        if let Some(ts) = e.get("timestamp") {
            humantime::parse_rfc3339(ts.as_str().unwrap_or(""))
                .map_err(|_| "embeds.0.timestamp: Could not interpret")?;
        }
        for f in e["fields"].as_array().cloned().unwrap_or_default() {
            if len(&f["name"]) == 0
                || len(&f["name"]) > 256
                || len(&f["value"]) == 0
                || len(&f["value"]) > 1024
            {
                return Err("embeds.0.fields: name 1..=256, value 1..=1024".into());
            }
            total += len(&f["name"]) + len(&f["value"]);
        }
        total += len(&e["footer"]["text"]);
    }
    if total > 6000 {
        return Err("embeds: more than 6000 characters".into());
    }
    Ok(())
}

#[derive(Clone, Default)]
pub struct Discord {
    pub posted: Seen,
    pub edits: Arc<Mutex<Vec<(String, Value)>>>,
}

fn discord_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"message": message, "code": code}))).into_response()
}

async fn discord_post(
    State(d): State<Discord>,
    Path((_id, token)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if token != "whtoken" {
        return discord_error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return discord_error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        );
    };
    if let Err(e) = discord_check(&v) {
        return discord_error(
            StatusCode::BAD_REQUEST,
            50035,
            &format!("Invalid Form Body: {e}"),
        );
    }
    let mut posted = d.posted.lock().expect("lock");
    posted.push(v.clone());
    let id = format!("11{:05}", posted.len());
    if q.get("wait").map(String::as_str) == Some("true") {
        let mut m = v;
        m["id"] = id.into();
        Json(m).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

async fn discord_edit(
    State(d): State<Discord>,
    Path((_id, token, message)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if token != "whtoken" {
        return discord_error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
    }
    let known = (1..=d.posted.lock().expect("lock").len()).any(|i| format!("11{i:05}") == message);
    if !known {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return discord_error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        );
    };
    if let Err(e) = discord_check(&v) {
        return discord_error(
            StatusCode::BAD_REQUEST,
            50035,
            &format!("Invalid Form Body: {e}"),
        );
    }
    d.edits
        .lock()
        .expect("lock")
        .push((message.clone(), v.clone()));
    let mut m = v;
    m["id"] = message.into();
    Json(m).into_response()
}

/// A Slack receiver; its webhook is `<url>/services/T0001/B0001/secretkey`.
pub async fn slack_server() -> (Served, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/services/{*hook}", post(slack))
        .with_state(seen.clone());
    (Served::start(app).await, seen)
}

/// A Discord receiver; its webhook is `<url>/api/webhooks/42/whtoken`.
pub async fn discord_server() -> (Served, Discord) {
    let d = Discord::default();
    let app = Router::new()
        .route("/api/webhooks/{id}/{token}", post(discord_post))
        .route(
            "/api/webhooks/{id}/{token}/messages/{message}",
            patch(discord_edit),
        )
        .with_state(d.clone());
    (Served::start(app).await, d)
}

pub fn config(url: String) -> ChatWebhookConfig {
    ChatWebhookConfig {
        enabled: true,
        webhook_url: Secret::new(url),
        webhook_url_file: None,
    }
}

#[tokio::test]
async fn slack_gets_block_kit_with_a_link_into_the_ui_and_no_action_tokens() {
    let (server, seen) = slack_server().await;
    let out = permission();
    let channel = Chat::new(
        Service::Slack,
        &config(format!("{}/services/T0001/B0001/secretkey", server.url())),
    )
    .expect("channel");
    assert!(
        !channel.capabilities().actions,
        "a chat carries no buttons that answer"
    );
    channel.deliver(&out).await.expect("Slack took it");
    let v = seen.lock().expect("lock").pop().expect("one message");
    assert_eq!(
        v["blocks"][0]["text"]["text"],
        "api-refactor asks to run Bash"
    );
    let section = v["blocks"][1]["text"]["text"].as_str().unwrap_or("");
    assert!(
        section.contains("rm -rf target &amp;&amp; cargo test &lt;all&gt;"),
        "{section}"
    );
    let button = &v["blocks"][2]["elements"][0];
    assert_eq!(button["text"]["text"], "Answer in Paddock");
    assert_eq!(button["url"], format!("{UI}/#/sessions/s7?request=p3"));
    assert!(
        v["text"]
            .as_str()
            .unwrap_or("")
            .contains("api-refactor asks to run Bash"),
        "a fallback text"
    );
    assert!(
        !v.to_string().contains("pna_"),
        "no action token in a chat: {v}"
    );

    let wrong = Chat::new(
        Service::Slack,
        &config(format!("{}/services/T0001/B0001/revoked", server.url())),
    )
    .expect("channel");
    let err = wrong.deliver(&out).await.expect_err("unknown webhook");
    assert!(matches!(err, ChannelError::Rejected(_)), "{err:?}");
    assert!(err.to_string().contains("no_service"), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let down = Chat::new(
        Service::Slack,
        &config(format!(
            "http://127.0.0.1:{port}/services/T0001/B0001/topsecret"
        )),
    )
    .expect("channel");
    let err = down.deliver(&out).await.expect_err("nobody listens");
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        err.to_string().contains("Slack could not be reached"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("topsecret"),
        "the webhook URL is a secret: {err}"
    );
}

#[tokio::test]
async fn discord_gets_an_embed_which_is_edited_once_the_request_is_answered() {
    let (server, d) = discord_server().await;
    let mut out = permission();
    let mut n = (*out.notification).clone();
    n.title = "t".repeat(300);
    out.notification = Arc::new(n);
    let channel = Chat::new(
        Service::Discord,
        &config(format!("{}/api/webhooks/42/whtoken", server.url())),
    )
    .expect("channel");
    let receipt = channel.deliver(&out).await.expect("Discord took it");
    assert_eq!(receipt.remote_ids, ["1100001"]);
    let v = d.posted.lock().expect("lock")[0].clone();
    let embed = &v["embeds"][0];
    assert_eq!(
        embed["title"].as_str().map(|t| t.chars().count()),
        Some(256),
        "cut to Discord's limit"
    );
    assert!(embed["description"]
        .as_str()
        .unwrap_or("")
        .contains("rm -rf target && cargo test <all>"));
    assert_eq!(embed["url"], format!("{UI}/#/sessions/s7?request=p3"));
    assert_eq!(embed["fields"][0]["value"], "Bash");
    assert_eq!(
        v["allowed_mentions"]["parse"],
        json!([]),
        "no @everyone from a command line"
    );
    assert!(
        !v.to_string().contains("pna_"),
        "no action token in a chat: {v}"
    );

    channel
        .withdraw(
            &out,
            &receipt,
            &Withdrawal {
                text: "Allowed by ntfy notification".into(),
            },
        )
        .await
        .expect("edited");
    let (id, edit) = d.edits.lock().expect("lock")[0].clone();
    assert_eq!(id, "1100001");
    let description = edit["embeds"][0]["description"].as_str().unwrap_or("");
    assert!(
        description.ends_with("**Allowed by ntfy notification**"),
        "{description}"
    );

    let wrong = Chat::new(
        Service::Discord,
        &config(format!("{}/api/webhooks/42/stale", server.url())),
    )
    .expect("channel");
    let err = wrong.deliver(&out).await.expect_err("bad token");
    assert!(err.to_string().contains("Invalid Webhook Token"), "{err}");
    assert!(!err.is_retryable());
}
