//! What a notification is: the facts every channel renders, its actions, and where it stands.
//! Wire types: the delivery log over the local socket and REST, the UI's settings page. The
//! notifier that makes them is `paddock_core::notify`.

use crate::agent::{Decision, PermissionId};
use crate::SessionId;
use serde::{Deserialize, Serialize};

/// Why a notification was made: the rule that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// An agent asks permission to run a tool (carries Approve / Deny).
    Permission,
    /// An agent finished a turn and waits for input.
    WaitingInput,
    /// A long task is done.
    TaskFinished,
    /// The agent exited with a non-zero code or a signal.
    ExitedAbnormally,
    /// The agent errored.
    Errored,
    /// Cpu or memory above a level for a while.
    Resource,
    /// One of the owner's own rules.
    Custom,
    /// `paddock notifications test CHANNEL`.
    Test,
}

/// One button on a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct NotificationAction {
    /// Stable within the notification: `allow`, `allow_always`, `deny`.
    pub key: String,
    /// What the button says.
    pub label: String,
    /// What pressing it answers.
    pub decision: Decision,
    /// The channel may let the owner type a message with it (a deny's reason).
    pub takes_message: bool,
}

/// A notification, as every channel is asked to show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Notification {
    /// `n1`, `n2`, ... (unique while the supervisor runs; with the start time in the log).
    pub id: String,
    pub kind: NotificationKind,
    /// The rule that made it (`permission`, `waiting_input`, `custom:<name>`, ...).
    pub rule: String,
    pub session: Option<SessionId>,
    /// The session's name, for people.
    pub session_name: Option<String>,
    pub title: String,
    pub body: String,
    /// Where a tap goes, relative to the UI (`/#/sessions/<id>`); channels make it absolute
    /// with [`super::Outgoing::link_url`].
    pub link: String,
    /// The permission request it asks about.
    pub request: Option<PermissionId>,
    /// The tool and its one-line summary, for channels that lay them out themselves.
    pub tool: Option<String>,
    pub detail: Option<String>,
    pub actions: Vec<NotificationAction>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub state: NotificationState,
}

/// Where a notification stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NotificationState {
    /// Made, not delivered anywhere yet (held by presence, quiet hours, a pause or retries).
    Pending,
    /// At least one channel has it.
    Delivered,
    /// Its request was answered (through a notification or anywhere else).
    Answered {
        by: String,
        verb: String,
        at: String,
    },
    /// Taken back: its request went away, or it no longer applies.
    Withdrawn { reason: String, at: String },
}

/// One channel's attempts at one notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct DeliveryView {
    pub notification: String,
    pub channel: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The last error, in words.
    pub error: Option<String>,
    /// From the notification's creation to the channel accepting it.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub latency_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting (presence delay, a retry's backoff).
    Waiting,
    Delivered,
    /// Every attempt failed.
    Failed,
    /// Not sent: the channel cannot carry it, or it was no longer needed.
    Skipped,
    /// Delivered, then withdrawn or updated because the request was answered.
    Withdrawn,
}
