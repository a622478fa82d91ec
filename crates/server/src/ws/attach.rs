//! Attaching a session to a socket: the holder connection and the task that streams its
//! output into the socket's queue.

use super::conn::Conn;
use super::{error, text, MAX_ATTACHED};
use crate::app::audit;
use crate::error::ApiError;
use axum::extract::ws::Message;
use paddock_core::access::AuditInput;
use paddock_host::client::{ClientWriter, Event as HolderEvent};
use paddock_proto::access::Permission;
use paddock_proto::web::{ApiErrorCode, ServerMessage, TerminalFrame};
use paddock_proto::{Hello, Mode, Notification, SessionId, Start, StreamKind};

pub(super) struct Attached {
    pub(super) writer: ClientWriter,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Conn {
    pub(super) async fn attach(
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
}
