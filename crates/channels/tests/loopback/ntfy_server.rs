//! A loopback ntfy server: the parts of ntfy's HTTP API Paddock and the ntfy phone app use,
//! checked as ntfy checks them (the real server is a Go program that no package registry
//! here carries). Publishing as JSON to `/` (topic names, priority 1-5, at most three
//! actions, each `view`/`http`/`broadcast`/`copy` with a label and, for `view` and `http`, a
//! URL), publishing a plain body to `/<topic>` (what an `http` button does), subscribing to
//! `/<topic>/json` (an `open` event, then the cached messages after `since` (a message id or
//! a unix time), then live ones, one JSON object per line), clearing with
//! `PUT /<topic>/<sequence id>/clear`, and access tokens (`Authorization: Bearer`, 403
//! otherwise). Every accepted message is kept for the test to read.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

use super::support::{now, Served};

#[derive(Default)]
struct St {
    next: u64,
    /// Every message and event, in order.
    messages: Vec<Value>,
    clears: Vec<(String, String)>,
    subscribers: usize,
    /// Publishes still to be answered 503 (an outage).
    unavailable: usize,
}

#[derive(Clone)]
struct Shared {
    token: Option<String>,
    st: Arc<Mutex<St>>,
    live: broadcast::Sender<Value>,
}

pub struct FakeNtfy {
    shared: Shared,
    served: Served,
}

fn valid_topic(t: &str) -> bool {
    (1..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn error(status: StatusCode, code: u32, text: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "http": status.as_u16(), "error": text})),
    )
        .into_response()
}

impl Shared {
    /// The refusal, when the request lacks the access token.
    fn refused(&self, headers: &HeaderMap) -> Option<Response> {
        let want = self.token.as_ref()?;
        let got = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        (got != format!("Bearer {want}")).then(|| error(StatusCode::FORBIDDEN, 40301, "forbidden"))
    }

    fn store(&self, mut m: serde_json::Map<String, Value>) -> Value {
        let mut st = self.st.lock().expect("lock");
        st.next += 1;
        m.insert("id".into(), format!("msg{:08}", st.next).into());
        m.insert("time".into(), now().into());
        let v = Value::Object(m);
        st.messages.push(v.clone());
        let _ = self.live.send(v.clone());
        v
    }
}

/// ntfy's checks of a JSON publish; the error says what is wrong.
fn check_publish(body: &Value) -> Result<(), String> {
    let o = body.as_object().ok_or("the body is not a JSON object")?;
    let topic = o.get("topic").and_then(Value::as_str).ok_or("no topic")?;
    if !valid_topic(topic) {
        return Err(format!("invalid topic `{topic}`"));
    }
    for key in ["title", "message", "click"] {
        if o.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!("{key} is not a string"));
        }
    }
    if let Some(p) = o.get("priority") {
        if !p.as_u64().is_some_and(|p| (1..=5).contains(&p)) {
            return Err("priority must be 1 to 5".into());
        }
    }
    if let Some(tags) = o.get("tags") {
        if !tags
            .as_array()
            .is_some_and(|t| t.iter().all(Value::is_string))
        {
            return Err("tags must be an array of strings".into());
        }
    }
    if let Some(actions) = o.get("actions") {
        let actions = actions.as_array().ok_or("actions is not an array")?;
        if actions.len() > 3 {
            return Err("too many actions (at most 3)".into());
        }
        for a in actions {
            let kind = a["action"].as_str().ok_or("an action has no type")?;
            if !["view", "http", "broadcast", "copy"].contains(&kind) {
                return Err(format!("unknown action type `{kind}`"));
            }
            if a["label"].as_str().is_none_or(str::is_empty) {
                return Err("an action has no label".into());
            }
            if kind == "view" || kind == "http" {
                let url = a["url"].as_str().unwrap_or("");
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!("action `{kind}` needs an http(s) url"));
                }
            }
            if let Some(h) = a.get("headers") {
                if !h
                    .as_object()
                    .is_some_and(|h| h.values().all(Value::is_string))
                {
                    return Err("action headers must be strings".into());
                }
            }
            for key in ["method", "body"] {
                if a.get(key).is_some_and(|v| !v.is_string()) {
                    return Err(format!("action {key} is not a string"));
                }
            }
        }
    }
    Ok(())
}

async fn publish_json(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = s.refused(&headers) {
        return r;
    }
    {
        let mut st = s.st.lock().expect("lock");
        if st.unavailable > 0 {
            st.unavailable -= 1;
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                50301,
                "service unavailable",
            );
        }
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            40024,
            "invalid request: JSON body expected",
        );
    };
    if let Err(e) = check_publish(&v) {
        return error(
            StatusCode::BAD_REQUEST,
            40024,
            &format!("invalid request: {e}"),
        );
    }
    let mut m = v.as_object().cloned().unwrap_or_default();
    m.insert("event".into(), "message".into());
    if let Some(actions) = m.get_mut("actions").and_then(Value::as_array_mut) {
        for (i, a) in actions.iter_mut().enumerate() {
            a["id"] = format!("a{i}").into();
        }
    }
    Json(s.store(m)).into_response()
}

async fn publish_plain(
    State(s): State<Shared>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = s.refused(&headers) {
        return r;
    }
    if !valid_topic(&topic) {
        return error(StatusCode::BAD_REQUEST, 40009, "invalid topic");
    }
    let mut m = serde_json::Map::new();
    m.insert("event".into(), "message".into());
    m.insert("topic".into(), topic.into());
    m.insert(
        "message".into(),
        String::from_utf8_lossy(&body).into_owned().into(),
    );
    Json(s.store(m)).into_response()
}

async fn clear(
    State(s): State<Shared>,
    Path((topic, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.refused(&headers) {
        return r;
    }
    s.st.lock()
        .expect("lock")
        .clears
        .push((topic.clone(), sid.clone()));
    let mut m = serde_json::Map::new();
    m.insert("event".into(), "message_clear".into());
    m.insert("topic".into(), topic.into());
    m.insert("sequence_id".into(), sid.into());
    Json(s.store(m)).into_response()
}

async fn subscribe(
    State(s): State<Shared>,
    Path(topic): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.refused(&headers) {
        return r;
    }
    let mut live = s.live.subscribe();
    let since = q.get("since").cloned().unwrap_or_default();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let line = |v: &Value| Bytes::from(format!("{v}\n"));
    let backlog: Vec<Value> = {
        let mut st = s.st.lock().expect("lock");
        st.subscribers += 1;
        let of_topic: Vec<&Value> = st
            .messages
            .iter()
            .filter(|m| m["topic"] == topic.as_str())
            .collect();
        let start = if let Ok(t) = since.parse::<u64>() {
            of_topic
                .iter()
                .position(|m| m["time"].as_u64().unwrap_or(0) >= t)
                .unwrap_or(of_topic.len())
        } else if since == "all" {
            0
        } else if since.is_empty() {
            of_topic.len()
        } else {
            of_topic
                .iter()
                .position(|m| m["id"] == since.as_str())
                .map(|i| i + 1)
                .unwrap_or(of_topic.len())
        };
        of_topic[start..].iter().map(|m| (*m).clone()).collect()
    };
    let open = json!({"id": "open", "time": now(), "event": "open", "topic": topic});
    tokio::spawn(async move {
        if tx.send(line(&open)).await.is_err() {
            return;
        }
        for m in &backlog {
            if tx.send(line(m)).await.is_err() {
                return;
            }
        }
        while let Ok(m) = live.recv().await {
            if m["topic"] == topic.as_str() && tx.send(line(&m)).await.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Response::builder()
        .header("content-type", "application/x-ndjson; charset=utf-8")
        .body(Body::from_stream(stream))
        .expect("response")
}

impl FakeNtfy {
    pub async fn start(token: Option<&str>) -> Self {
        let shared = Shared {
            token: token.map(str::to_owned),
            st: Arc::default(),
            live: broadcast::channel(256).0,
        };
        let app = Router::new()
            .route("/", post(publish_json).put(publish_json))
            .route("/{topic}", post(publish_plain).put(publish_plain))
            .route("/{topic}/json", get(subscribe))
            .route("/{topic}/{sid}/clear", put(clear))
            .with_state(shared.clone());
        Self {
            shared,
            served: Served::start(app).await,
        }
    }

    pub fn url(&self) -> String {
        self.served.url()
    }

    /// The messages published to `topic` so far.
    pub fn messages(&self, topic: &str) -> Vec<Value> {
        let st = self.shared.st.lock().expect("lock");
        st.messages
            .iter()
            .filter(|m| m["topic"] == topic && m["event"] == "message")
            .cloned()
            .collect()
    }

    /// The next `n` publishes are answered 503.
    pub fn go_down_for(&self, n: usize) {
        self.shared.st.lock().expect("lock").unavailable = n;
    }

    pub fn clears(&self) -> Vec<(String, String)> {
        self.shared.st.lock().expect("lock").clears.clone()
    }

    pub fn subscribers(&self) -> usize {
        self.shared.st.lock().expect("lock").subscribers
    }
}

/// What the ntfy phone app does when an `http` action is tapped: the request the action
/// describes, nothing more.
pub async fn press(action: &Value) -> reqwest::StatusCode {
    let method = action["method"].as_str().unwrap_or("POST");
    let url = action["url"].as_str().expect("an http action has a url");
    let mut request = reqwest::Client::new()
        .request(method.parse().expect("method"), url)
        .body(action["body"].as_str().unwrap_or("").to_owned());
    if let Some(headers) = action["headers"].as_object() {
        for (k, v) in headers {
            request = request.header(k, v.as_str().unwrap_or(""));
        }
    }
    request
        .send()
        .await
        .expect("the phone reaches ntfy")
        .status()
}
