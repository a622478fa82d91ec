//! Presence: whether the owner is at a device right now. Typing into an attached terminal, a
//! visible UI tab (reported over its WebSocket) or the app's focused window each count for
//! `presence.active_for`. While the owner is present, push channels (those whose
//! capabilities say `remote`) hear a notification only if it is still unanswered after
//! `presence.escalate_after`; nothing buzzes the phone while the owner works at the desk.

use super::config::PresenceConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the owner was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seen {
    /// Typed into a session's terminal (`paddock attach`, the UI's terminal).
    Terminal(paddock_proto::SessionId),
    /// A UI tab (or the app's window) is visible / focused on this device.
    Ui(String),
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Presence {
    config: PresenceConfig,
    seen: Arc<Mutex<HashMap<Seen, Instant>>>,
}

impl Presence {
    pub fn new(config: PresenceConfig) -> Self {
        Self {
            config,
            seen: Arc::default(),
        }
    }

    /// The owner did something at `where_`.
    pub fn touch(&self, where_: Seen) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(where_, Instant::now());
    }

    /// A UI tab went hidden, or a device went away: it no longer counts.
    pub fn leave(&self, where_: &Seen) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(where_);
    }

    /// How long push channels wait now: zero when nobody is present (or presence is off).
    pub fn push_delay(&self) -> Duration {
        if self.is_present() {
            self.config.escalate_after
        } else {
            Duration::ZERO
        }
    }

    pub fn is_present(&self) -> bool {
        if !self.config.enabled {
            return false;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let active_for = self.config.active_for;
        seen.retain(|_, t| t.elapsed() < active_for);
        !seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_waits_only_while_the_owner_is_somewhere_and_not_after_they_leave() {
        let config = PresenceConfig {
            enabled: true,
            active_for: Duration::from_secs(60),
            escalate_after: Duration::from_secs(30),
        };
        let p = Presence::new(config.clone());
        assert_eq!(p.push_delay(), Duration::ZERO, "nobody there: push at once");
        let tab = Seen::Ui("laptop".into());
        p.touch(tab.clone());
        assert_eq!(p.push_delay(), Duration::from_secs(30));
        p.leave(&tab);
        assert_eq!(p.push_delay(), Duration::ZERO);
        let off = Presence::new(PresenceConfig {
            enabled: false,
            ..config
        });
        off.touch(Seen::Ui("laptop".into()));
        assert_eq!(
            off.push_delay(),
            Duration::ZERO,
            "presence off: push at once"
        );
    }
}
