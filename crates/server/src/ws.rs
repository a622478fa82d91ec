//! `/api/v1/ws`: events and terminal streams over one WebSocket.
//!
//! One task reads the socket and owns the connection's state (its principal, its event
//! subscription, the holder connections of its attached sessions); one task writes, from a
//! bounded queue. Each attached session has a task reading its holder connection into that
//! queue: when the browser is slow the queue fills, that task stops reading, and the holder
//! (which never waits for a client) resyncs it with `lagged` and a snapshot. So a slow client
//! costs nobody else anything. Nothing is held across an `.await` but owned state.

use crate::app::{bearer, origin_allowed, AppState};
use crate::error::ApiError;
use crate::refusals::Refusal;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use paddock_core::events::{Received, Subscriber};
use paddock_proto::web::{ApiErrorCode, ClientMessage, ServerMessage, WS_PROTOCOL_VERSION};
use paddock_proto::SessionId;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

mod attach;
mod conn;

use conn::Conn;

/// Frames queued for one socket before its producers wait.
const OUT_QUEUE: usize = 256;
/// Time to authenticate after the upgrade.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
/// Nothing heard for this long (not even a pong) closes the socket.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// Sessions one socket may attach at once.
const MAX_ATTACHED: usize = 64;

pub async fn upgrade(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rej) => {
            return ApiError::bad_request(format!(
                "{}: connect with a WebSocket client",
                rej.body_text()
            ))
            .into_response()
        }
    };
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        if !origin_allowed(&st, &headers, origin) {
            return ApiError::new(
                ApiErrorCode::OriginDenied,
                "WebSocket from another origin refused",
            )
            .into_response();
        }
    }
    let header_token = bearer(&headers).map(str::to_owned);
    let max = st.config.ws_max_message_bytes as usize;
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| connection(socket, st, header_token, peer.ip()))
}

type Out = mpsc::Sender<Message>;

fn text(m: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(m).unwrap_or_default().into())
}

fn error(code: ApiErrorCode, message: impl Into<String>, session: Option<SessionId>) -> Message {
    text(&ServerMessage::Error {
        code,
        message: message.into(),
        session,
    })
}

async fn connection(socket: WebSocket, st: AppState, header_token: Option<String>, peer: IpAddr) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut out_rx) = mpsc::channel::<Message>(OUT_QUEUE);
    let writer = tokio::spawn(async move {
        // Whatever is queued goes out in one flush: fewer TLS records and syscalls when
        // output pours in, no delay when it does not.
        'outer: while let Some(m) = out_rx.recv().await {
            let mut next = Some(m);
            while let Some(m) = next.take() {
                let close = matches!(m, Message::Close(_));
                if sink.feed(m).await.is_err() || close {
                    let _ = sink.flush().await;
                    break 'outer;
                }
                next = out_rx.try_recv().ok();
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let access = st.handle.access().clone();
    // Authenticate: the upgrade's header, or the first message.
    let token = match header_token {
        Some(t) => Some(t),
        None => match tokio::time::timeout(AUTH_TIMEOUT, stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<ClientMessage>(&t) {
                Ok(ClientMessage::Auth { token }) => Some(token),
                _ => None,
            },
            _ => None,
        },
    };
    let principal = match token.as_deref().map(|t| access.verify(t)) {
        Some(Ok(p)) => p,
        other => {
            let msg = match other {
                Some(Err(e)) => e.to_string(),
                _ => "the first message must be {\"type\":\"auth\",\"token\":...}".to_owned(),
            };
            let written = st.refusals.record(
                &access,
                peer,
                Refusal {
                    result: "unauthenticated",
                    ..Refusal::new("auth.unauthenticated", "GET /api/v1/ws", msg.clone())
                },
            );
            if let Some(w) = written {
                let _ = w.await;
            }
            let _ = out
                .send(error(ApiErrorCode::Unauthorized, msg.clone(), None))
                .await;
            let _ = out
                .send(Message::Close(Some(CloseFrame {
                    code: 4401,
                    reason: "unauthorized".into(),
                })))
                .await;
            let _ = writer.await;
            return;
        }
    };
    if access.touch_is_due(&principal.device_id) {
        let (access, id) = (access.clone(), principal.device_id.clone());
        tokio::task::spawn_blocking(move || access.touch(&id));
    }
    let _ = out
        .send(text(&ServerMessage::Ready {
            protocol: WS_PROTOCOL_VERSION,
            device_id: principal.device_id.clone(),
            role: principal.role,
            permissions: principal.role.permissions(),
        }))
        .await;
    let mut conn = Conn {
        st: st.clone(),
        peer,
        principal,
        out: out.clone(),
        events: None,
        attached: HashMap::new(),
        input_budget: st.config.ws_input_bytes_per_second as f64,
        budget_at: Instant::now(),
        seen: None,
    };
    let mut changes = access.changes();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            msg = stream.next() => {
                last_heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => conn.on_text(&t).await,
                    Some(Ok(Message::Binary(_))) => {
                        let why = "send JSON text messages; binary frames are server to client only";
                        conn.refused(why);
                        let _ = out.send(error(ApiErrorCode::BadRequest, why, None)).await;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "WebSocket closed by an error");
                        conn.refused(&format!("the socket was closed: {e} (server.ws_max_message_bytes is {})", st.config.ws_max_message_bytes));
                        let _ = out.send(Message::Close(Some(CloseFrame { code: 1009, reason: "message too large or malformed".into() }))).await;
                        break;
                    }
                }
            }
            ev = next_event(&mut conn.events) => conn.on_event(ev).await,
            _ = changes.changed() => {
                if !access.is_active(&conn.principal.device_id) {
                    let _ = out.send(error(ApiErrorCode::Unauthorized, "this device was revoked", None)).await;
                    let _ = out.send(Message::Close(Some(CloseFrame { code: 4401, reason: "device revoked".into() }))).await;
                    break;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    break;
                }
                let _ = out.try_send(Message::Ping(Default::default()));
            }
        }
    }
    conn.attached.clear();
    conn.presence(false);
    drop(conn);
    drop(out);
    let _ = writer.await;
}

async fn next_event(sub: &mut Option<Subscriber>) -> Received {
    match sub {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}
