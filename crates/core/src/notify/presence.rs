//! Presence: whether the owner is at a device right now, and so how long each channel
//! waits before it hears a notification.
//!
//! Seen: typing into a terminal through a client that streams it (`paddock attach`, the
//! UI's terminal; the holder tells the supervisor with a throttled `typed` notification) and
//! the app's focused window count for the `desk`; a UI tab reporting itself visible over
//! its WebSocket counts for that paired device. Each counts for `presence.active_for`, or
//! until the tab says it is hidden or its socket closes.
//!
//! The policy ([`Presence::delay_for`]): with nobody present (or presence off), every
//! channel hears a notification at once. With the owner present somewhere, the channels of
//! the devices they are at hear it at once (the desk has every channel that is not a push
//! channel, plus those `presence.devices.desk` names; a device has those
//! `presence.devices.<name>` names), and every other push channel waits
//! `presence.escalate_after` and hears it only if it is still unanswered then.

use super::config::PresenceConfig;
use paddock_proto::supervisor::PresenceView;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The name of this host's own screen in `presence.devices`.
pub const DESK: &str = "desk";

/// Where the owner was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seen {
    /// Typed into a session's terminal (`paddock attach`, the UI's terminal): the desk.
    Terminal(paddock_proto::SessionId),
    /// The app's window is focused: the desk.
    App,
    /// A UI tab is visible on this paired device.
    Device { id: String, name: String },
}

impl Seen {
    /// Whether `route` (a key of `presence.devices`) names where this was seen.
    fn is(&self, route: &str) -> bool {
        match self {
            Seen::Terminal(_) | Seen::App => route == DESK,
            Seen::Device { id, name } => route == id || route == name,
        }
    }

    fn at_desk(&self) -> bool {
        self.is(DESK)
    }
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

    fn lock(&self) -> MutexGuard<'_, HashMap<Seen, Instant>> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let active_for = self.config.active_for;
        seen.retain(|_, t| t.elapsed() < active_for);
        seen
    }

    /// The owner did something at `where_`.
    pub fn touch(&self, where_: Seen) {
        if where_ == Seen::App || matches!(where_, Seen::Device { .. }) {
            tracing::debug!(seen = ?where_, "the owner is present");
        }
        self.lock().insert(where_, Instant::now());
    }

    /// A UI tab went hidden, the app's window lost focus, a socket closed: it no longer
    /// counts.
    pub fn leave(&self, where_: &Seen) {
        self.lock().remove(where_);
    }

    /// The app's window gained (`true`) or lost focus: the entry point for the app's shell.
    pub fn app_focused(&self, focused: bool) {
        if focused {
            self.touch(Seen::App)
        } else {
            self.leave(&Seen::App)
        }
    }

    /// Whether the owner is anywhere (always false with presence off).
    pub fn is_present(&self) -> bool {
        self.config.enabled && !self.lock().is_empty()
    }

    /// How long `channel` waits before it hears a notification made now (`remote`: it is a
    /// push channel). See the module's policy.
    pub fn delay_for(&self, channel: &str, remote: bool) -> Duration {
        if !self.config.enabled {
            return Duration::ZERO;
        }
        let seen = self.lock();
        if seen.is_empty() {
            return Duration::ZERO;
        }
        let reaches =
            |s: &Seen| {
                (!remote && s.at_desk())
                    || self.config.devices.iter().any(|(route, channels)| {
                        s.is(route) && channels.iter().any(|c| c == channel)
                    })
            };
        if seen.keys().any(reaches) {
            Duration::ZERO
        } else if remote {
            self.config.escalate_after
        } else {
            // A local channel while the owner is only at a device elsewhere: it costs
            // nothing to show it on the host's screen too.
            Duration::ZERO
        }
    }

    /// Where the owner was seen within `active_for`, most recent first, for `paddock status`.
    pub fn views(&self) -> Vec<PresenceView> {
        if !self.config.enabled {
            return Vec::new();
        }
        let mut v: Vec<(Duration, PresenceView)> = self
            .lock()
            .iter()
            .map(|(s, t)| {
                let (device, how) = match s {
                    Seen::Terminal(id) => (DESK.to_owned(), format!("typed into {id}")),
                    Seen::App => (DESK.to_owned(), "the app's window in front".to_owned()),
                    Seen::Device { name, .. } => (name.clone(), "the UI visible".to_owned()),
                };
                let ago = t.elapsed();
                (
                    ago,
                    PresenceView {
                        device,
                        how,
                        seconds_ago: ago.as_secs(),
                    },
                )
            })
            .collect();
        v.sort_by_key(|(ago, _)| *ago);
        v.into_iter().map(|(_, v)| v).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PresenceConfig {
        PresenceConfig {
            enabled: true,
            active_for: Duration::from_secs(60),
            escalate_after: Duration::from_secs(30),
            devices: [
                ("desk".to_owned(), vec!["slack".to_owned()]),
                ("phone".to_owned(), vec!["ntfy".to_owned()]),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn push_waits_only_while_the_owner_is_somewhere_and_not_after_they_leave() {
        let p = Presence::new(config());
        let wait = Duration::from_secs(30);
        assert_eq!(
            p.delay_for("web_push", true),
            Duration::ZERO,
            "nobody there: push at once"
        );
        let term = Seen::Terminal(paddock_proto::SessionId::parse("s1").expect("id"));
        p.touch(term.clone());
        assert!(p.is_present());
        assert_eq!(
            p.delay_for("web_push", true),
            wait,
            "at the desk: push waits"
        );
        assert_eq!(p.delay_for("ntfy", true), wait, "the phone's channel waits");
        assert_eq!(
            p.delay_for("desktop", false),
            Duration::ZERO,
            "the desk hears first"
        );
        assert_eq!(
            p.delay_for("slack", true),
            Duration::ZERO,
            "a push channel routed to the desk is the desk's"
        );
        p.leave(&term);
        assert_eq!(p.delay_for("web_push", true), Duration::ZERO);
        assert!(p.views().is_empty());
    }

    #[test]
    fn at_a_device_its_own_channels_hear_at_once_and_the_others_wait() {
        let p = Presence::new(config());
        let phone = Seen::Device {
            id: "d-1".into(),
            name: "phone".into(),
        };
        p.touch(phone.clone());
        assert_eq!(p.delay_for("ntfy", true), Duration::ZERO);
        assert_eq!(p.delay_for("slack", true), Duration::from_secs(30));
        assert_eq!(p.delay_for("desktop", false), Duration::ZERO);
        let views = p.views();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].device, "phone");
        p.leave(&phone);
        p.app_focused(true);
        assert_eq!(p.views()[0].device, "desk");
        assert_eq!(p.delay_for("ntfy", true), Duration::from_secs(30));
        p.app_focused(false);
        assert!(!p.is_present());
    }

    #[test]
    fn with_presence_off_everything_goes_at_once() {
        let p = Presence::new(PresenceConfig {
            enabled: false,
            ..config()
        });
        p.app_focused(true);
        assert!(!p.is_present());
        assert_eq!(p.delay_for("web_push", true), Duration::ZERO);
        assert!(p.views().is_empty());
    }

    #[test]
    fn being_seen_lasts_only_the_presence_window() {
        let p = Presence::new(PresenceConfig {
            active_for: Duration::ZERO,
            ..config()
        });
        p.app_focused(true);
        assert!(!p.is_present(), "a window of zero keeps nobody present");
    }
}
