//! Errors on the wire: a stable code for programs and a message for people.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An error's code (stable, for programs) and message (for people: what happened and what
/// to do next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorPayload {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ErrorPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame could not be decoded (too large, unknown tag, invalid JSON); the connection
    /// is closed.
    BadFrame,
    /// The first message was not `hello`, or a message arrived that makes no sense here.
    Protocol,
    /// The client's protocol version is not supported.
    UnsupportedVersion,
    /// A request this holder does not know.
    UnknownRequest,
    /// A read-only client tried to type, resize or signal.
    ReadOnly,
    /// The agent has exited; input and signals have nowhere to go.
    SessionExited,
    /// The agent is still running.
    SessionRunning,
    /// A size outside the accepted range.
    InvalidSize,
    /// The operating system refused (e.g. a signal could not be sent).
    Os,
    /// The session's backend cannot do this (e.g. restart a tmux pane Paddock did not start).
    Unsupported,
    /// A fault in the holder itself.
    Internal,
    /// No session, or no permission request, by that id or name.
    NotFound,
    /// The permission request was already answered or withdrawn; the message says by whom
    /// and when.
    AlreadyDecided,
    /// The request is not valid (e.g. an empty message, a suggestion that does not exist).
    Invalid,
    /// A code this build does not know.
    #[serde(other)]
    Unknown,
}
