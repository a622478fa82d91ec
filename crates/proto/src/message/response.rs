//! A holder's answers to requests, and how the output stream after `hello` begins.

use super::SessionInfo;
use crate::ids::ClientId;
use serde::{Deserialize, Serialize};

/// A holder's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Response {
    /// The answer to `hello`: the version in use, the session, and where the stream begins.
    Hello {
        version: u32,
        client: ClientId,
        session: Box<SessionInfo>,
        stream: StreamStart,
        /// The holder took the descriptor the client passed with `hello.sink`: the output
        /// goes into it from `stream.offset` on, and no output frames come on this
        /// connection (notifications and answers still do, after the output written before
        /// them). Absent (false) from holders that do not know it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sink: bool,
    },
    /// The session's metadata.
    Info { session: Box<SessionInfo> },
    /// Every session the supervisor knows.
    Sessions {
        sessions: Vec<crate::supervisor::SessionView>,
    },
    /// The supervisor's status.
    Status {
        status: Box<crate::supervisor::SupervisorStatus>,
    },
    /// A new pairing offer.
    Pairing {
        offer: Box<crate::access::PairingOffer>,
    },
    /// Paired devices.
    Devices {
        devices: Vec<crate::access::DeviceView>,
    },
    /// One device, after a change.
    Device {
        device: Box<crate::access::DeviceView>,
    },
    /// The screen as text (`screen`).
    Screen {
        rows: Vec<String>,
        /// The output offset the screen reflects.
        offset: u64,
        #[serde(default)]
        title: String,
    },
    /// What `paddock hook` prints for the agent (nothing when `output` is absent).
    HookReply {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<serde_json::Value>,
    },
    /// Permission requests, oldest first.
    Permissions {
        requests: Vec<crate::agent::PermissionRequest>,
    },
    /// Notifications, newest first, with their deliveries.
    Notifications {
        notifications: Vec<crate::notify::Notification>,
        deliveries: Vec<crate::notify::DeliveryView>,
    },
    /// A test notification's delivery.
    NotifyTested {
        delivery: crate::notify::DeliveryView,
    },
    /// A session's insight (absent until its transcript is found).
    Insight {
        session: Box<crate::supervisor::SessionView>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        insight: Option<Box<crate::insight::SessionInsight>>,
    },
    /// Past and present agent sessions, or search hits.
    History {
        #[serde(default)]
        sessions: Vec<crate::agent::HistoryEntry>,
        #[serde(default)]
        hits: Vec<crate::agent::HistoryHit>,
    },
    /// One permission request, as it is now.
    Permission {
        request: Box<crate::agent::PermissionRequest>,
    },
    /// Done.
    Ok,
    /// What became of a message sent with `control` (supervisor only).
    Message {
        receipt: Box<crate::agent::MessageReceipt>,
    },
}

/// How the output stream that follows a `hello` response begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStart {
    /// `bytes`: output frames from `offset` on; `snapshot`: a snapshot frame at `offset`
    /// first; `none`: the client asked for no stream.
    pub kind: StreamKind,
    /// The absolute offset the stream begins at.
    pub offset: u64,
    /// True when the client asked for an offset whose bytes are gone from the ring, so it
    /// gets a snapshot instead: it missed `offset - requested` bytes.
    #[serde(default)]
    pub gap: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    Bytes,
    Snapshot,
    None,
}
