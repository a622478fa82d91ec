//! The client side of the endpoint's protocols as the benches speak them: one REST call with
//! a bearer token, and WSS messages (send, the next JSON message, attach).

use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;

pub(super) type Ws = tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>;
pub(crate) type Sender =
    hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>;

pub(crate) async fn call(
    s: &mut Sender,
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    if !token.is_empty() {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            serde_json::to_vec(&b)?
        }
        None => Vec::new(),
    };
    s.ready().await?;
    let resp = s
        .send_request(req.body(http_body_util::Full::new(bytes.into()))?)
        .await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!(
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

pub(super) async fn send(ws: &mut Ws, v: Value) -> anyhow::Result<()> {
    ws.send(Message::Text(v.to_string().into())).await?;
    Ok(())
}

pub(super) async fn next_json(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t)?),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => bail!("the socket ended: {other:?}"),
            Err(_) => bail!("no message within 10 s"),
        }
    }
}

/// Attaches and returns the `attached` message.
pub(super) async fn attach(ws: &mut Ws, id: &str, offset: Option<u64>) -> anyhow::Result<Value> {
    attach_with(ws, id, offset, false).await
}

pub(super) async fn attach_with(
    ws: &mut Ws,
    id: &str,
    offset: Option<u64>,
    lossless: bool,
) -> anyhow::Result<Value> {
    send(
        ws,
        json!({"type": "attach", "session": id, "offset": offset, "lossless": lossless}),
    )
    .await?;
    loop {
        let m = next_json(ws).await?;
        match m["type"].as_str() {
            Some("attached") => return Ok(m),
            Some("error") => bail!("attach refused: {m}"),
            _ => {}
        }
    }
}
