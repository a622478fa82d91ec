//! One socket's state ([`Conn`]): its principal, subscription, attached sessions and input
//! budget, and what it does with each client message and each event.

use super::attach::Attached;
use super::{error, text, Out};
use crate::app::{audit, AppState};
use crate::refusals::Refusal;
use axum::extract::ws::Message;
use paddock_core::access::{AuditInput, Principal};
use paddock_core::events::{Event, Received, Subscriber};
use paddock_core::notify::presence::Seen;
use paddock_proto::access::Permission;
use paddock_proto::web::{ApiErrorCode, ClientMessage, ServerMessage};
use paddock_proto::{Request, SessionId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

pub(super) struct Conn {
    pub(super) st: AppState,
    /// The client's address, for the audit log.
    pub(super) peer: IpAddr,
    pub(super) principal: Principal,
    pub(super) out: Out,
    pub(super) events: Option<Subscriber>,
    pub(super) attached: HashMap<SessionId, Attached>,
    pub(super) input_budget: f64,
    pub(super) budget_at: Instant,
    /// Where this socket's page counts its owner as present, while it is visible.
    pub(super) seen: Option<Seen>,
}

impl Conn {
    /// The page said whether it is visible: its device counts as where the owner is, or no
    /// longer does.
    pub(super) fn presence(&mut self, visible: bool) {
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

    pub(super) async fn send(&self, m: Message) {
        let _ = self.out.send(m).await;
    }

    /// Audits a message refused as malformed, binary or oversize (within the budget).
    pub(super) fn refused(&self, why: &str) {
        self.st.refusals.record(
            self.st.handle.access(),
            self.peer,
            Refusal {
                device: Some(self.principal.device_id.clone()),
                ..Refusal::new("ws.refused", "ws message", why)
            },
        );
    }

    pub(super) async fn deny(&self, perm: Permission, what: &str, session: Option<SessionId>) {
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

    pub(super) async fn on_text(&mut self, t: &str) {
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

    pub(super) async fn on_event(&mut self, ev: Received) {
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
