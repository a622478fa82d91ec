//! The supervisor's event bus: every change anyone may care about, on one broadcast channel.
//!
//! Producers never wait: a subscriber that falls more than the channel's capacity behind gets
//! `Lagged` from [`Subscriber::recv`] and must resync from the registry's current state.

use paddock_proto::supervisor::{ComponentHealth, SessionView};
use paddock_proto::SessionId;
use serde::Serialize;
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they lag.
const CAPACITY: usize = 1024;

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum Event {
    /// A session appeared or changed (state, size, clients...).
    SessionUpdate { session: Box<SessionView> },
    /// A session is gone from the registry (removed, or its holder/pane/process is gone).
    SessionRemoved { id: SessionId },
    /// New resource figures for a session's process tree.
    ProcessUpdate {
        id: SessionId,
        cpu: f32,
        #[cfg_attr(feature = "wire", ts(type = "number"))]
        rss: u64,
        processes: u32,
    },
    /// A component's health changed.
    SystemAlert { component: ComponentHealth },
    /// A line of the supervisor's activity log.
    LogEntry { level: String, message: String },
    /// What a session's transcript says changed: sent as the design's `thinking_update`.
    #[serde(rename = "thinking_update")]
    InsightUpdate {
        id: SessionId,
        insight: Box<paddock_proto::insight::SessionInsight>,
    },
    /// Turns of a session's conversation were written or changed (as a page serves them),
    /// once a client has read its conversation. `reset`: the transcript was replaced, every
    /// turn read before is gone (read the first page again).
    ConversationUpdate {
        id: SessionId,
        turns: Vec<paddock_proto::conversation::Turn>,
        /// Turns in the session, once known (see `ConversationPage::total`).
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        total: Option<u64>,
        reset: bool,
    },
    /// A permission request was opened, decided or withdrawn.
    PermissionUpdate {
        request: Box<paddock_proto::agent::PermissionRequest>,
    },
    /// The notification settings changed (from any client: the CLI, the UI, the app's tray);
    /// `paused`: every notification is held.
    NotifySettingsUpdate { paused: bool },
}

/// What a subscriber gets.
#[derive(Debug)]
pub enum Received {
    Event(Event),
    /// `n` events were missed: resync from current state.
    Lagged(u64),
    Closed,
}

/// The bus. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Event>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Publishes; never blocks, and nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> Subscriber {
        Subscriber {
            rx: self.tx.subscribe(),
        }
    }
}

/// One consumer's view of the bus.
pub struct Subscriber {
    rx: broadcast::Receiver<Event>,
}

impl Subscriber {
    pub async fn recv(&mut self) -> Received {
        match self.rx.recv().await {
            Ok(e) => Received::Event(e),
            Err(broadcast::error::RecvError::Lagged(n)) => Received::Lagged(n),
            Err(broadcast::error::RecvError::Closed) => Received::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_producers_never_wait() {
        let bus = Bus::new();
        let mut slow = bus.subscribe();
        for i in 0..(CAPACITY as u64 + 10) {
            bus.publish(Event::LogEntry {
                level: "info".into(),
                message: format!("{i}"),
            });
        }
        match slow.recv().await {
            Received::Lagged(n) => assert_eq!(n, 10),
            other => panic!("expected lag, got {other:?}"),
        }
        match slow.recv().await {
            Received::Event(Event::LogEntry { message, .. }) => assert_eq!(message, "10"),
            other => panic!("expected the oldest kept event, got {other:?}"),
        }
    }
}
