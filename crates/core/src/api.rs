//! The supervisor's local socket (`_supervisor.sock` in the runtime directory, 0600): what the
//! `paddock` command asks it. Same framing and messages as a holder's socket; each request is
//! answered from the supervisor's handle.

use crate::supervisor::Handle;
use paddock_proto::frame::encode_control;
use paddock_proto::{
    ErrorCode, ErrorPayload, Frame, FrameReader, Message, Request, Response, MIN_PROTOCOL_VERSION,
};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// Largest request accepted.
const MAX_REQUEST: usize = 64 * 1024;

/// Serves the local socket until `shutdown` turns true.
pub async fn serve(listener: UnixListener, handle: Handle, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let handle = handle.clone();
                    tokio::spawn(async move { connection(stream, handle).await });
                }
                Err(e) => tracing::warn!(error = %e, "cannot accept a local client"),
            },
            _ = shutdown.changed() => return,
        }
    }
}

async fn connection(stream: UnixStream, handle: Handle) {
    let (rd, mut wr) = stream.into_split();
    let mut reader = FrameReader::with_max(rd, MAX_REQUEST);
    let mut greeted = false;
    let mut buf = Vec::new();
    loop {
        let frame = match tokio::time::timeout(Duration::from_secs(30), reader.next()).await {
            Ok(Ok(Some(f))) => f,
            Ok(Ok(None)) | Err(_) => return,
            Ok(Err(e)) => {
                let msg = Message::Error {
                    id: None,
                    payload: ErrorPayload::new(ErrorCode::BadFrame, format!("{e}; closing")),
                };
                buf.clear();
                encode_control(&msg, &mut buf);
                let _ = wr.write_all(&buf).await;
                return;
            }
        };
        let Frame::Control(Message::Request { id, payload }) = frame else {
            let msg = Message::Error {
                id: None,
                payload: ErrorPayload::new(
                    ErrorCode::Protocol,
                    "the supervisor takes requests only",
                ),
            };
            buf.clear();
            encode_control(&msg, &mut buf);
            let _ = wr.write_all(&buf).await;
            return;
        };
        let answer = match payload {
            Request::Hello(h) if !greeted => {
                greeted = true;
                if h.version < MIN_PROTOCOL_VERSION {
                    Err(ErrorPayload::new(
                        ErrorCode::UnsupportedVersion,
                        "this client is too old for the supervisor; upgrade paddock",
                    ))
                } else {
                    Ok(Response::Ok)
                }
            }
            _ if !greeted => Err(ErrorPayload::new(
                ErrorCode::Protocol,
                "the first message must be a hello request",
            )),
            Request::ListSessions => Ok(Response::Sessions {
                // worktrees (issue 16): each folder's git state
                sessions: handle.with_git(handle.sessions()).await,
            }),
            Request::Adopt { session } => match handle.adopt(&session).await {
                Ok(view) => Ok(Response::Sessions {
                    sessions: vec![view],
                }),
                Err(e) => Err(ErrorPayload::new(
                    match e {
                        crate::start::StartError::NoHolder(_) => ErrorCode::NotFound,
                        _ => ErrorCode::Internal,
                    },
                    e.to_string(),
                )),
            },
            // --- begin: Claude Code background agents (issue 15, item 1) ---
            Request::ClaudeBg { session, action } => handle
                .claude_bg(&session, action)
                .await
                .map(|view| Response::Sessions {
                    sessions: vec![view],
                })
                .map_err(|e| bg_error(&e)),
            Request::StartBackground { prompt, cwd } => handle
                .start_background(&prompt, std::path::Path::new(&cwd))
                .await
                .map(|view| Response::Sessions {
                    sessions: vec![view],
                })
                .map_err(|e| bg_error(&e)),
            // --- end: Claude Code background agents ---
            Request::Status => Ok(Response::Status {
                status: Box::new(handle.status()),
            }),
            req @ (Request::CreatePairing { .. }
            | Request::ListDevices
            | Request::RenameDevice { .. }
            | Request::RevokeDevice { .. }) => {
                let handle = handle.clone();
                tokio::task::spawn_blocking(move || owner_access(&handle, req))
                    .await
                    .unwrap_or_else(|_| {
                        Err(ErrorPayload::new(
                            ErrorCode::Internal,
                            "the request failed inside the supervisor; see its log",
                        ))
                    })
            }
            Request::Hook(call) => {
                // The hook waits (a permission request); if it goes away first, the request
                // is withdrawn when this future is dropped.
                let answer = tokio::select! {
                    out = crate::hooks::on_hook(&handle, *call) => out,
                    _ = reader.next() => return,
                };
                Ok(Response::HookReply { output: answer })
            }
            Request::Insight { session } => match crate::control::find(&handle, &session) {
                Ok(view) => {
                    // worktrees (issue 16): the folder's git state
                    let view = handle.view_with_git(view).await;
                    Ok(Response::Insight {
                        insight: handle.insight(&view.id).map(Box::new),
                        session: Box::new(view),
                    })
                }
                Err(e) => Err(e.payload()),
            },
            Request::History { search, limit } => {
                let limit = if limit == 0 { 100 } else { limit.min(1000) };
                let h = handle.clone();
                let result = tokio::task::spawn_blocking(move || match search {
                    Some(words) => h.search_history(&words, limit).map(|hits| Response::History {
                        sessions: Vec::new(),
                        hits,
                    }),
                    None => h
                        .history(&paddock_store::HistoryQuery {
                            limit,
                            ..Default::default()
                        })
                        .map(|s| Response::History {
                            sessions: s,
                            hits: Vec::new(),
                        }),
                })
                .await;
                match result {
                    Ok(Ok(r)) => Ok(r),
                    Ok(Err(e)) => Err(ErrorPayload::new(
                        ErrorCode::Invalid,
                        format!("cannot read the history: {e}"),
                    )),
                    Err(e) => Err(ErrorPayload::new(ErrorCode::Internal, e.to_string())),
                }
            }
            Request::Notifications { limit } => {
                let (notifications, deliveries) = handle.notifier().log(limit as usize).await;
                Ok(Response::Notifications {
                    notifications,
                    deliveries,
                })
            }
            Request::NotifyTest { channel } => {
                use crate::notify::TestError;
                match handle.test_notify_channel(&channel).await {
                    Ok(delivery) => Ok(Response::NotifyTested { delivery }),
                    Err(e @ TestError::NoChannel(..)) => {
                        Err(ErrorPayload::new(ErrorCode::NotFound, e.to_string()))
                    }
                    Err(e) => Err(ErrorPayload::new(ErrorCode::Unsupported, e.to_string())),
                }
            }
            Request::NotifyPause { paused } => {
                let h = handle.clone();
                match tokio::task::spawn_blocking(move || h.set_notify_paused(paused)).await {
                    Ok(Ok(_)) => Ok(Response::Ok),
                    Ok(Err(e)) => Err(ErrorPayload::new(ErrorCode::Internal, e.to_string())),
                    Err(e) => Err(ErrorPayload::new(
                        ErrorCode::Internal,
                        format!("changing the pause stopped: {e}"),
                    )),
                }
            }
            Request::Permissions { all } => Ok(Response::Permissions {
                requests: handle.permissions().list(all),
            }),
            Request::Decide {
                request,
                decision,
                by,
            } => crate::control::decide(&handle, &request, decision, &by)
                .await
                .map(|r| Response::Permission {
                    request: Box::new(r),
                })
                .map_err(|e| e.payload()),
            Request::Control {
                session,
                control,
                by,
            } => match control {
                paddock_proto::agent::Control::Message {
                    text,
                    timeout_ms,
                    typed,
                } => {
                    let how = crate::delivery::How::new(timeout_ms, typed);
                    let receipt = match how {
                        Ok(how) => crate::delivery::message(&handle, &session, &text, &by, how).await,
                        Err(e) => Err(e),
                    };
                    receipt
                        .map(|receipt| Response::Message {
                            receipt: Box::new(receipt),
                        })
                        .map_err(|e| e.payload())
                }
                control => crate::control::control(&handle, &session, control, &by)
                    .await
                    .map(|_| Response::Ok)
                    .map_err(|e| e.payload()),
            },
            _ => Err(ErrorPayload::new(
                ErrorCode::UnknownRequest,
                "the supervisor does not serve that request; session requests go to the session's holder",
            )),
        };
        let msg = match answer {
            Ok(payload) => Message::Response { id, payload },
            Err(payload) => Message::Error {
                id: Some(id),
                payload,
            },
        };
        buf.clear();
        encode_control(&msg, &mut buf);
        if wr.write_all(&buf).await.is_err() {
            return;
        }
    }
}

/// Pairing and device requests from the owner (the local socket is the owner's alone); each
/// change is audited with the actor `owner`.
fn owner_access(handle: &Handle, req: Request) -> Result<Response, ErrorPayload> {
    use crate::access::{AccessError, AuditInput};
    let access = handle.access();
    let failed = |e: &dyn std::fmt::Display| ErrorPayload::new(ErrorCode::Os, e.to_string());
    let audit = |action: &str, target: Option<String>, result: &Result<Response, ErrorPayload>| {
        access.audit(AuditInput {
            actor: crate::access::OWNER.to_owned(),
            device_id: None,
            action: action.to_owned(),
            target,
            result: if result.is_ok() { "ok" } else { "failed" }.to_owned(),
            detail: result.as_ref().err().map(|e| e.message.clone()),
        })
    };
    let not_found = |e: AccessError| match e {
        AccessError::NoSuchDevice(_) => ErrorPayload::new(ErrorCode::UnknownRequest, e.to_string()),
        e => failed(&e),
    };
    match req {
        Request::CreatePairing { role, ttl_secs } => {
            let r = handle
                .create_pairing(role, ttl_secs.map(Duration::from_secs))
                .map(|offer| Response::Pairing {
                    offer: Box::new(offer),
                })
                .map_err(|e| failed(&e));
            audit("pairing.create", Some(role.to_string()), &r);
            r
        }
        Request::ListDevices => Ok(Response::Devices {
            devices: access.devices(),
        }),
        Request::RenameDevice { id, name } => {
            let r = access
                .rename(&id, &name)
                .map(|d| Response::Device {
                    device: Box::new(d),
                })
                .map_err(not_found);
            audit("device.rename", Some(id.0), &r);
            r
        }
        Request::RevokeDevice { id } => {
            let r = access
                .revoke(&id)
                .map(|d| Response::Device {
                    device: Box::new(d),
                })
                .map_err(not_found);
            audit("device.revoke", Some(id.0), &r);
            r
        }
        _ => Err(ErrorPayload::new(
            ErrorCode::UnknownRequest,
            "not an access request",
        )),
    }
}

/// A background agent's error as the wire says it.
fn bg_error(e: &crate::agents::claude_bg::ops::BgError) -> ErrorPayload {
    use crate::agents::claude_bg::ops::BgError as B;
    let code = match e {
        B::NotBackground(_) | B::Unknown(_) => ErrorCode::NotFound,
        e if e.is_bad_request() => ErrorCode::Invalid,
        _ => ErrorCode::Internal,
    };
    ErrorPayload::new(code, e.to_string())
}
