//! The endpoint's WebSocket protocol (`/api/v1/ws`) and the error body of every REST and
//! WebSocket error. Used by `paddock-server`, its tests and benchmarks, and (exported to
//! TypeScript) by the UI.
//!
//! Text frames carry JSON: a client sends [`ClientMessage`]s; the server sends
//! [`ServerMessage`]s and the supervisor's events (`{type: "session_update", payload}`, ...,
//! see `paddock_core::events::Event`); both are tagged by `type` and no names collide.
//!
//! Binary frames carry terminal data, never JSON (see [`TerminalFrame`]):
//! `tag u8 | id_len u8 | session id | offset u64 LE | rest`, where tag 1 is output (rest = the
//! bytes at `offset`) and tag 3 a snapshot (rest = cols u16 LE, rows u16 LE, ANSI bytes that
//! redraw the screen as it was at `offset`).

use crate::access::{DeviceId, Permission, Role};
use crate::ids::SessionId;
use crate::message::Size;
use crate::supervisor::SessionView;
use serde::{Deserialize, Serialize};

/// The WebSocket protocol's version, said in `ready`.
pub const WS_PROTOCOL_VERSION: u32 = 1;

/// What a client sends, as JSON text frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message (unless the upgrade request carried `Authorization: Bearer`): an
    /// access token. Nothing else is accepted before it; 10 s without it closes the socket.
    Auth { token: String },
    /// Start receiving the supervisor's events (all kinds the role may read).
    Subscribe,
    /// Stop receiving events.
    Unsubscribe,
    /// Stream a session's terminal: exactly the bytes after `offset` when the session still
    /// has them, else (or without `offset`) a snapshot of the screen, then live output.
    Attach {
        session: SessionId,
        #[serde(default)]
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        offset: Option<u64>,
        /// Apply this size when attaching (operators only; ignored for viewers).
        #[serde(default)]
        size: Option<Size>,
        /// Tolerate falling behind by up to the session's whole ring before being resynced
        /// with a snapshot, instead of the interactive limit (1 MiB): for clients that must
        /// see every byte (a log view, a recorder), not for a live terminal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "wire", ts(optional))]
        lossless: Option<bool>,
    },
    /// Stop streaming a session's terminal.
    Detach { session: SessionId },
    /// Type into an attached session (operators only).
    Input { session: SessionId, data: String },
    /// Resize an attached session's terminal (operators only).
    Resize { session: SessionId, size: Size },
    /// Whether the owner is looking at this page: sent when it becomes visible or focused
    /// (`true`, and again now and then while they use it) and when it is hidden (`false`).
    /// While it is visible, notifications reach this device first and push to the others
    /// waits (`[notify.presence]`); a closed socket counts as hidden.
    Presence { visible: bool },
    /// Answered by `pong` with the same nonce.
    Ping {
        #[serde(default)]
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        nonce: Option<u64>,
    },
    /// A message this build does not know: answered with an `error`, the socket stays open.
    #[serde(other)]
    #[cfg_attr(feature = "wire", ts(skip))]
    Unknown,
}

/// What the server sends besides events, as JSON text frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Authenticated: who the socket speaks for and what it may do.
    Ready {
        protocol: u32,
        device_id: DeviceId,
        role: Role,
        permissions: Vec<Permission>,
    },
    /// Every session, sent after `subscribe` and whenever events were missed (the client
    /// fell behind): replace what you have.
    Resync { sessions: Vec<SessionView> },
    /// A terminal stream begins at `offset`: with a snapshot frame when `snapshot`, else with
    /// output frames. `gap` says the asked-for offset was gone, so bytes were skipped.
    Attached {
        session: SessionId,
        #[cfg_attr(feature = "wire", ts(type = "number"))]
        offset: u64,
        snapshot: bool,
        gap: bool,
        size: Size,
        /// Whether this socket may type into it.
        writable: bool,
    },
    /// The client fell behind: bytes `from..to` were skipped; a snapshot at `to` follows.
    Lagged {
        session: SessionId,
        #[cfg_attr(feature = "wire", ts(type = "number"))]
        from: u64,
        #[cfg_attr(feature = "wire", ts(type = "number"))]
        to: u64,
    },
    /// The terminal was resized.
    Resized { session: SessionId, size: Size },
    /// The agent exited; the stream stays attached to its final screen.
    Exited {
        session: SessionId,
        code: Option<i32>,
        signal: Option<String>,
    },
    /// The terminal stream ended (the session went away, or `detach`).
    Detached { session: SessionId, reason: String },
    /// The answer to `ping`.
    Pong {
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        nonce: Option<u64>,
    },
    /// Something failed; `session` says which stream when it concerns one.
    Error {
        code: ApiErrorCode,
        message: String,
        session: Option<SessionId>,
    },
}

/// Stable error codes, the same over REST (`{"error": {"code", "message"}}`) and WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    /// No token, a bad or expired token, or a revoked device (401).
    Unauthorized,
    /// The role does not allow this (403).
    Forbidden,
    /// A browser page from another origin (403).
    OriginDenied,
    NotFound,
    /// The request or message is malformed or has invalid values (400).
    BadRequest,
    /// Too large (413, or a WebSocket message over the limit).
    PayloadTooLarge,
    /// Too many requests from this address (429, with `Retry-After`).
    RateLimited,
    /// The pairing secret or code is wrong, used or expired (401).
    PairingFailed,
    /// The session has exited: input and signals have nowhere to go (409).
    SessionExited,
    /// The session is still running (409).
    SessionRunning,
    /// The permission request was already answered or is no longer waiting (409).
    AlreadyDecided,
    /// The session's backend cannot do this (409).
    Unsupported,
    /// A part of Paddock this needs is not available (the database, a holder) (503).
    Unavailable,
    /// A fault in Paddock itself (500).
    Internal,
}

impl ApiErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiErrorCode::Unauthorized => "unauthorized",
            ApiErrorCode::Forbidden => "forbidden",
            ApiErrorCode::OriginDenied => "origin_denied",
            ApiErrorCode::NotFound => "not_found",
            ApiErrorCode::BadRequest => "bad_request",
            ApiErrorCode::PayloadTooLarge => "payload_too_large",
            ApiErrorCode::RateLimited => "rate_limited",
            ApiErrorCode::PairingFailed => "pairing_failed",
            ApiErrorCode::SessionExited => "session_exited",
            ApiErrorCode::SessionRunning => "session_running",
            ApiErrorCode::AlreadyDecided => "already_decided",
            ApiErrorCode::Unsupported => "unsupported",
            ApiErrorCode::Unavailable => "unavailable",
            ApiErrorCode::Internal => "internal",
        }
    }
}

/// The body of every REST error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// An error's stable code and a message for people saying what to do next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ApiErrorCode,
    pub message: String,
}

/// A binary WebSocket frame: terminal data of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalFrame {
    /// Output bytes beginning at the absolute `offset`.
    Output {
        session: SessionId,
        offset: u64,
        data: Vec<u8>,
    },
    /// The screen as it was at `offset`, as ANSI bytes that redraw it on a `cols`×`rows`
    /// terminal.
    Snapshot {
        session: SessionId,
        offset: u64,
        size: Size,
        data: Vec<u8>,
    },
}

/// Why a binary frame could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TerminalFrameError {
    #[error("the terminal frame is truncated")]
    Truncated,
    #[error("unknown terminal frame tag {0}")]
    UnknownTag(u8),
    #[error("the terminal frame names an invalid session id")]
    BadSession,
}

const TAG_OUTPUT: u8 = 1;
const TAG_SNAPSHOT: u8 = 3;

impl TerminalFrame {
    /// Appends the frame's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (tag, session, offset) = match self {
            TerminalFrame::Output {
                session, offset, ..
            } => (TAG_OUTPUT, session, *offset),
            TerminalFrame::Snapshot {
                session, offset, ..
            } => (TAG_SNAPSHOT, session, *offset),
        };
        let id = session.as_str().as_bytes();
        out.push(tag);
        // Session ids are at most 64 bytes (SessionId::parse).
        out.push(id.len().min(255) as u8);
        out.extend_from_slice(&id[..id.len().min(255)]);
        out.extend_from_slice(&offset.to_le_bytes());
        match self {
            TerminalFrame::Output { data, .. } => out.extend_from_slice(data),
            TerminalFrame::Snapshot { size, data, .. } => {
                out.extend_from_slice(&size.cols.to_le_bytes());
                out.extend_from_slice(&size.rows.to_le_bytes());
                out.extend_from_slice(data);
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, TerminalFrameError> {
        let (&tag, rest) = bytes.split_first().ok_or(TerminalFrameError::Truncated)?;
        let (&len, rest) = rest.split_first().ok_or(TerminalFrameError::Truncated)?;
        let len = len as usize;
        if rest.len() < len + 8 {
            return Err(TerminalFrameError::Truncated);
        }
        let id = std::str::from_utf8(&rest[..len]).map_err(|_| TerminalFrameError::BadSession)?;
        let session = SessionId::parse(id).map_err(|_| TerminalFrameError::BadSession)?;
        let mut off = [0u8; 8];
        off.copy_from_slice(&rest[len..len + 8]);
        let offset = u64::from_le_bytes(off);
        let body = &rest[len + 8..];
        match tag {
            TAG_OUTPUT => Ok(TerminalFrame::Output {
                session,
                offset,
                data: body.to_vec(),
            }),
            TAG_SNAPSHOT => {
                if body.len() < 4 {
                    return Err(TerminalFrameError::Truncated);
                }
                let cols = u16::from_le_bytes([body[0], body[1]]);
                let rows = u16::from_le_bytes([body[2], body[3]]);
                Ok(TerminalFrame::Snapshot {
                    session,
                    offset,
                    size: Size { cols, rows },
                    data: body[4..].to_vec(),
                })
            }
            other => Err(TerminalFrameError::UnknownTag(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_frames_round_trip_and_refuse_truncation() {
        let s = SessionId::parse("ab-12").expect("id");
        for f in [
            TerminalFrame::Output {
                session: s.clone(),
                offset: u64::MAX - 3,
                data: b"hello\x1b[0m".to_vec(),
            },
            TerminalFrame::Snapshot {
                session: s.clone(),
                offset: 7,
                size: Size { cols: 80, rows: 24 },
                data: b"\x1b[H".to_vec(),
            },
        ] {
            let mut buf = Vec::new();
            f.encode(&mut buf);
            assert_eq!(TerminalFrame::decode(&buf), Ok(f.clone()));
            for cut in 0..(2 + 5 + 8) {
                assert!(TerminalFrame::decode(&buf[..cut]).is_err(), "cut at {cut}");
            }
        }
        assert_eq!(
            TerminalFrame::decode(&[9, 1, b'a', 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(TerminalFrameError::UnknownTag(9))
        );
    }

    #[test]
    fn unknown_client_messages_decode_to_unknown() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"launch_missiles","payload":1}"#).expect("decodes");
        assert_eq!(m, ClientMessage::Unknown);
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"attach","session":"abc","offset":5}"#).expect("ok");
        assert!(matches!(
            m,
            ClientMessage::Attach {
                offset: Some(5),
                ..
            }
        ));
    }
}
