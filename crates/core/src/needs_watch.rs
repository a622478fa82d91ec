//! When to ask the supervisor again what needs the owner (sessions' states and names,
//! permission requests, the pause of notifications), for a surface that shows it and stays
//! open: the app's tray today. With the supervisor's bus at hand (the supervisor runs in this
//! process) it wakes on the events that can change that view, settled so that events that
//! come together (a permission request and its session's new state) cost one question, with a
//! slow safety net; on a lag (missed events) it wakes to resync. A surface that cannot hear
//! the bus (the supervisor is another process's) polls. [`NeedsSnapshot::ask`] is the
//! question, over the supervisor's socket either way.
use crate::events::{Bus, Event, Received, Subscriber};
use crate::local_client::{LocalClient, LocalError};
use paddock_proto::agent::PermissionRequest;
use paddock_proto::supervisor::{SessionView, SupervisorStatus};
use std::time::Duration;

/// How often a watch without the bus asks (the supervisor is another process's).
pub const POLL: Duration = Duration::from_secs(1);
/// With the bus: a safety net (nothing shown should change without an event; this only
/// bounds how long a missed one could go unseen).
pub const SAFETY_NET: Duration = Duration::from_secs(30);
/// With the bus: events that come together are answered with one question.
pub const SETTLE: Duration = Duration::from_millis(50);

/// Why a [`NeedsWatch`] woke.
#[derive(Debug, Clone, PartialEq)]
pub enum Wake {
    /// An event that can change what needs the owner (the first of a settled batch).
    Event(Event),
    /// Events were missed: ask again to resync.
    Lagged,
    /// The poll's tick, or the safety net's.
    Tick,
}

/// Wakes a surface when what needs the owner may have changed; see the module header.
pub struct NeedsWatch {
    source: Source,
}

enum Source {
    Bus(Subscriber),
    Poll(tokio::time::Interval),
}

impl NeedsWatch {
    /// On `bus`'s events when there is one, else polling every [`POLL`].
    pub fn new(bus: Option<&Bus>) -> Self {
        let source = match bus {
            Some(bus) => Source::Bus(bus.subscribe()),
            None => {
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + POLL, POLL);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                Source::Poll(tick)
            }
        };
        Self { source }
    }

    /// Waits until the view may have changed; `None` once the bus closed (the supervisor
    /// stopped), after which nothing will change.
    pub async fn changed(&mut self) -> Option<Wake> {
        let events = match &mut self.source {
            Source::Poll(tick) => {
                tick.tick().await;
                return Some(Wake::Tick);
            }
            Source::Bus(events) => events,
        };
        let wake = loop {
            match tokio::time::timeout(SAFETY_NET, events.recv()).await {
                Ok(Received::Event(e)) if shown_to_owner(&e) => break Wake::Event(e),
                Ok(Received::Event(_)) => continue,
                Ok(Received::Lagged(_)) => break Wake::Lagged,
                Ok(Received::Closed) => return None,
                Err(_) => break Wake::Tick,
            }
        };
        tokio::time::sleep(SETTLE).await;
        Some(wake)
    }
}

/// Whether an event can change what needs the owner (sessions' states and names, permission
/// requests, the pause of notifications); resource figures, logs and transcripts cannot.
pub fn shown_to_owner(e: &Event) -> bool {
    matches!(
        e,
        Event::SessionUpdate { .. }
            | Event::SessionRemoved { .. }
            | Event::PermissionUpdate { .. }
            | Event::NotifySettingsUpdate { .. }
    )
}

/// What the supervisor says now: its sessions, its pending permission requests and its
/// status (the endpoint's URL, the pause of notifications).
#[derive(Debug, Clone)]
pub struct NeedsSnapshot {
    pub sessions: Vec<SessionView>,
    pub pending: Vec<PermissionRequest>,
    pub status: SupervisorStatus,
}

impl NeedsSnapshot {
    /// Asks the supervisor over its socket.
    pub async fn ask(local: &LocalClient) -> Result<Self, LocalError> {
        Ok(Self {
            sessions: local.sessions().await?,
            pending: local.permissions().await?,
            status: local.status().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(message: &str) -> Event {
        Event::LogEntry {
            level: "info".into(),
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn only_what_the_owner_sees_wakes_the_watch_and_a_stopped_supervisor_ends_it() {
        let bus = Bus::new();
        let mut watch = NeedsWatch::new(Some(&bus));
        // A log line and resource figures change nothing shown; the pause does.
        bus.publish(log("an agent started"));
        bus.publish(Event::NotifySettingsUpdate { paused: true });
        assert_eq!(
            watch.changed().await,
            Some(Wake::Event(Event::NotifySettingsUpdate { paused: true }))
        );
        drop(bus);
        assert_eq!(watch.changed().await, None);
    }

    #[tokio::test]
    async fn missed_events_wake_the_watch_to_resync() {
        let bus = Bus::new();
        let mut watch = NeedsWatch::new(Some(&bus));
        // More than the bus keeps for a slow subscriber.
        for i in 0..2000 {
            bus.publish(log(&i.to_string()));
        }
        assert_eq!(watch.changed().await, Some(Wake::Lagged));
    }

    #[tokio::test]
    async fn without_the_bus_the_watch_polls() {
        let mut watch = NeedsWatch::new(None);
        assert_eq!(watch.changed().await, Some(Wake::Tick));
        assert_eq!(watch.changed().await, Some(Wake::Tick));
    }
}
