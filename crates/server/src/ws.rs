//! `/api/v1/ws`: events and terminal streams over one WebSocket.
//!
//! One task reads the socket and owns the connection's state (its principal, its event
//! subscription, the holder connections of its attached sessions); one task writes, from a
//! bounded queue. Each attached session has a task reading its holder connection into that
//! queue: when the browser is slow the queue fills, that task stops reading, and the holder
//! (which never waits for a client) resyncs it with `lagged` and a snapshot. So a slow client
//! costs nobody else anything. Nothing is held across an `.await` but owned state.

use crate::app::{audit, bearer, origin_allowed, AppState};
use crate::error::ApiError;
use crate::refusals::Refusal;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use paddock_core::access::{AuditInput, Principal};
use paddock_core::events::{Event, Received, Subscriber};
use paddock_core::notify::presence::Seen;
use paddock_host::client::{ClientWriter, Event as HolderEvent};
use paddock_proto::access::Permission;
use paddock_proto::web::{
    ApiErrorCode, ClientMessage, ServerMessage, TerminalFrame, WS_PROTOCOL_VERSION,
};
use paddock_proto::{Hello, Mode, Notification, Request, SessionId, Start, StreamKind};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

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

struct Attached {
    writer: ClientWriter,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.task.abort();
    }
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

struct Conn {
    st: AppState,
    /// The client's address, for the audit log.
    peer: IpAddr,
    principal: Principal,
    out: Out,
    events: Option<Subscriber>,
    attached: HashMap<SessionId, Attached>,
    input_budget: f64,
    budget_at: Instant,
    /// Where this socket's page counts its owner as present, while it is visible.
    seen: Option<Seen>,
}

impl Conn {
    /// The page said whether it is visible: its device counts as where the owner is, or no
    /// longer does.
    fn presence(&mut self, visible: bool) {
        let presence = self.st.handle.notifier().presence();
        if !visible {
            if let Some(seen) = self.seen.take() {
                presence.leave(&seen);
            }
            return;
        }
        let id = &self.principal.device_id;
        let name = self
            .st
            .handle
            .access()
            .device(id)
            .map_or_else(|| id.to_string(), |d| d.name);
        let seen = Seen::Device {
            id: id.to_string(),
            name,
        };
        presence.touch(seen.clone());
        self.seen = Some(seen);
    }

    async fn send(&self, m: Message) {
        let _ = self.out.send(m).await;
    }

    /// Audits a message refused as malformed, binary or oversize (within the budget).
    fn refused(&self, why: &str) {
        self.st.refusals.record(
            self.st.handle.access(),
            self.peer,
            Refusal {
                device: Some(self.principal.device_id.clone()),
                ..Refusal::new("ws.refused", "ws message", why)
            },
        );
    }

    async fn deny(&self, perm: Permission, what: &str, session: Option<SessionId>) {
        audit(
            &self.st,
            AuditInput {
                actor: self.principal.actor(),
                device_id: Some(self.principal.device_id.clone()),
                action: "auth.forbidden".into(),
                target: Some(format!("ws {what}")),
                result: "denied".into(),
                detail: Some(format!("needs {}", perm.as_str())),
            },
        )
        .await;
        self.send(error(
            ApiErrorCode::Forbidden,
            format!("the role {} may not {what}", self.principal.role),
            session,
        ))
        .await;
    }

    async fn on_text(&mut self, t: &str) {
        let msg = match serde_json::from_str::<ClientMessage>(t) {
            Ok(m) => m,
            Err(e) => {
                let why = format!("not a valid message: {e}");
                self.refused(&why);
                self.send(error(ApiErrorCode::BadRequest, why, None)).await;
                return;
            }
        };
        let p = self.principal.clone();
        match msg {
            ClientMessage::Auth { .. } => {
                self.send(error(
                    ApiErrorCode::BadRequest,
                    "already authenticated",
                    None,
                ))
                .await
            }
            ClientMessage::Presence { visible } => self.presence(visible),
            ClientMessage::Ping { nonce } => self.send(text(&ServerMessage::Pong { nonce })).await,
            ClientMessage::Subscribe => {
                if !p.allows(Permission::SessionsList) {
                    return self.deny(Permission::SessionsList, "subscribe", None).await;
                }
                self.events = Some(self.st.handle.bus().subscribe());
                self.send(text(&ServerMessage::Resync {
                    sessions: self.st.handle.sessions(),
                }))
                .await;
            }
            ClientMessage::Unsubscribe => self.events = None,
            ClientMessage::Attach {
                session,
                offset,
                size,
                lossless,
            } => {
                if !p.allows(Permission::Read) {
                    return self.deny(Permission::Read, "attach", Some(session)).await;
                }
                self.attach(session, offset, size, lossless.unwrap_or(false))
                    .await;
            }
            ClientMessage::Detach { session } => {
                if self.attached.remove(&session).is_some() {
                    self.send(text(&ServerMessage::Detached {
                        session,
                        reason: "detached".into(),
                    }))
                    .await;
                }
            }
            ClientMessage::Input { session, data } => {
                if !p.allows(Permission::Input) {
                    return self.deny(Permission::Input, "type", Some(session)).await;
                }
                let rate = f64::from(self.st.config.ws_input_bytes_per_second.max(1));
                let now = Instant::now();
                self.input_budget = (self.input_budget
                    + now.duration_since(self.budget_at).as_secs_f64() * rate)
                    .min(rate);
                self.budget_at = now;
                if (data.len() as f64) > self.input_budget {
                    return self
                        .send(error(
                            ApiErrorCode::RateLimited,
                            "typing faster than server.ws_input_bytes_per_second; input dropped",
                            Some(session),
                        ))
                        .await;
                }
                self.input_budget -= data.len() as f64;
                let Some(a) = self.attached.get_mut(&session) else {
                    return self
                        .send(error(
                            ApiErrorCode::BadRequest,
                            "attach to the session before typing into it",
                            Some(session),
                        ))
                        .await;
                };
                if let Some(seen) = &self.seen {
                    // Typing on a visible page keeps its device present (a map insert).
                    self.st.handle.notifier().presence().touch(seen.clone());
                }
                if a.writer.send_input(data.as_bytes()).await.is_err() {
                    self.send(error(
                        ApiErrorCode::Unavailable,
                        "the session's holder is gone",
                        Some(session),
                    ))
                    .await;
                }
            }
            ClientMessage::Resize { session, size } => {
                if !p.allows(Permission::Input) {
                    return self.deny(Permission::Input, "resize", Some(session)).await;
                }
                if !size.is_valid() {
                    return self
                        .send(error(
                            ApiErrorCode::BadRequest,
                            format!("{size} is not a valid terminal size"),
                            Some(session),
                        ))
                        .await;
                }
                let Some(a) = self.attached.get_mut(&session) else {
                    return self
                        .send(error(
                            ApiErrorCode::BadRequest,
                            "attach to the session before resizing it",
                            Some(session),
                        ))
                        .await;
                };
                let _ = a.writer.send_request(Request::Resize { size }).await;
            }
            ClientMessage::Unknown => {
                self.send(error(
                    ApiErrorCode::BadRequest,
                    "unknown message type; see ClientMessage in the API's wire types",
                    None,
                ))
                .await
            }
        }
    }

    async fn attach(
        &mut self,
        session: SessionId,
        offset: Option<u64>,
        size: Option<paddock_proto::Size>,
        lossless: bool,
    ) {
        if !self.attached.contains_key(&session) && self.attached.len() >= MAX_ATTACHED {
            return self
                .send(error(
                    ApiErrorCode::BadRequest,
                    format!("at most {MAX_ATTACHED} sessions per socket"),
                    Some(session),
                ))
                .await;
        }
        self.attached.remove(&session);
        let writable = self.principal.allows(Permission::Input);
        let mut hello = Hello::new(if writable {
            Mode::ReadWrite
        } else {
            Mode::ReadOnly
        });
        hello.start = match offset {
            Some(offset) => Start::Offset { offset },
            None => Start::Snapshot,
        };
        hello.size = if writable {
            size.filter(|s| s.is_valid())
        } else {
            None
        };
        hello.client_name = Some(format!("web {}", self.principal.device_id));
        hello.relay = true;
        hello.lossless = lossless;
        let client = match self.st.handle.open_terminal(&session, hello).await {
            Ok(c) => c,
            Err(e) => {
                let e = ApiError::from(e);
                return self.send(error(e.code, e.message, Some(session))).await;
            }
        };
        let w = client.welcome.clone();
        self.send(text(&ServerMessage::Attached {
            session: session.clone(),
            offset: w.stream.offset,
            snapshot: w.stream.kind == StreamKind::Snapshot,
            gap: w.stream.gap,
            size: w.session.size,
            writable,
        }))
        .await;
        if writable {
            audit(
                &self.st,
                AuditInput {
                    actor: self.principal.actor(),
                    device_id: Some(self.principal.device_id.clone()),
                    action: "session.attach".into(),
                    target: Some(session.to_string()),
                    result: "ok".into(),
                    detail: Some("read-write".into()),
                },
            )
            .await;
        }
        let (mut reader, writer) = client.into_split();
        let out = self.out.clone();
        let sid = session.clone();
        let task = tokio::spawn(async move {
            let mut buf = Vec::new();
            loop {
                let ev = match reader.next_event().await {
                    Ok(Some(ev)) => ev,
                    _ => {
                        let _ = out
                            .send(text(&ServerMessage::Detached {
                                session: sid.clone(),
                                reason: "the session's holder closed the stream".into(),
                            }))
                            .await;
                        return;
                    }
                };
                let msg = match ev {
                    HolderEvent::Output { offset, data } => {
                        let mut buf = Vec::with_capacity(data.len() + 80);
                        TerminalFrame::Output {
                            session: sid.clone(),
                            offset,
                            data,
                        }
                        .encode(&mut buf);
                        Message::Binary(buf.into())
                    }
                    HolderEvent::Snapshot { offset, size, data } => {
                        buf.clear();
                        TerminalFrame::Snapshot {
                            session: sid.clone(),
                            offset,
                            size,
                            data,
                        }
                        .encode(&mut buf);
                        Message::Binary(buf.clone().into())
                    }
                    HolderEvent::Notification(n) => match n {
                        Notification::Lagged { from, to } => text(&ServerMessage::Lagged {
                            session: sid.clone(),
                            from,
                            to,
                        }),
                        Notification::Resized { size } => text(&ServerMessage::Resized {
                            session: sid.clone(),
                            size,
                        }),
                        Notification::Exited { code, signal } => text(&ServerMessage::Exited {
                            session: sid.clone(),
                            code,
                            signal,
                        }),
                        _ => continue,
                    },
                    HolderEvent::Error { error: e, .. } => {
                        error(ApiErrorCode::BadRequest, e.message, Some(sid.clone()))
                    }
                    HolderEvent::Response { .. } => continue,
                };
                if out.send(msg).await.is_err() {
                    return;
                }
            }
        });
        self.attached.insert(session, Attached { writer, task });
    }

    async fn on_event(&mut self, ev: Received) {
        match ev {
            Received::Event(e) => {
                let needs = match &e {
                    Event::SessionUpdate { .. } | Event::SessionRemoved { .. } => {
                        Permission::SessionsList
                    }
                    _ => Permission::Read,
                };
                if self.principal.allows(needs) {
                    let t = serde_json::to_string(&e).unwrap_or_default();
                    self.send(Message::Text(t.into())).await;
                }
            }
            Received::Lagged(_) => {
                self.send(text(&ServerMessage::Resync {
                    sessions: self.st.handle.sessions(),
                }))
                .await
            }
            Received::Closed => self.events = None,
        }
    }
}
