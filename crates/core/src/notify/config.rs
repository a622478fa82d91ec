//! `[notify]` in `config.toml`: the rules, quiet hours, presence, and one section per channel.
//! A channel's section is its own struct here (core::config is the one typed config); a
//! channel crate reads it from `Config::notify`. Secrets in a section are [`Secret`]s:
//! redacted in `Debug`, and best kept in a file of their own (`token_file`, 0600) rather than
//! in `config.toml`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A secret from the configuration (a token, a password, a webhook URL with its key in it).
/// `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Everything about notifications.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Send notifications at all.
    pub enabled: bool,
    /// Hold every notification (the UI's global pause); permission requests still wait in
    /// Paddock and can be answered there.
    pub paused: bool,
    /// The address links and action buttons in notifications point at (e.g.
    /// `https://box.tailnet.ts.net:7420`). Default: the endpoint's own URL.
    pub public_url: Option<String>,
    /// How long an Approve / Deny on a notification can be used (never past the request's
    /// own expiry).
    #[serde(with = "humantime_serde")]
    pub action_ttl: Duration,
    /// The same rule for the same session notifies at most once in this time.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// Quiet hours, local time: nothing but permission requests is sent between `start`
    /// and `end` (`permissions_too = true` holds those as well).
    pub quiet_hours: Option<QuietHours>,
    /// Attempts per channel before a delivery is given up.
    pub attempts: u32,
    /// How long one attempt may take.
    #[serde(with = "humantime_serde")]
    pub attempt_timeout: Duration,
    pub rules: RulesConfig,
    pub presence: PresenceConfig,
    pub desktop: DesktopConfig,
    pub web_push: WebPushConfig,
    // The channels through services (see remote_config).
    pub ntfy: super::remote_config::NtfyConfig,
    pub slack: super::remote_config::ChatWebhookConfig,
    pub discord: super::remote_config::ChatWebhookConfig,
    pub webhook: super::remote_config::WebhookConfig,
    pub email: super::remote_config::EmailConfig,
    pub apns: super::remote_config::ApnsConfig,
    pub fcm: super::remote_config::FcmConfig,
    /// Per paired device (by id): which notifications its browsers get by Web Push
    /// (`push = "all" | "permissions" | "off"`); devices not listed get all.
    pub devices: std::collections::BTreeMap<String, super::settings::DeviceConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            paused: false,
            public_url: None,
            action_ttl: Duration::from_secs(600),
            cooldown: Duration::from_secs(120),
            quiet_hours: None,
            attempts: 3,
            attempt_timeout: Duration::from_secs(10),
            rules: RulesConfig::default(),
            presence: PresenceConfig::default(),
            desktop: DesktopConfig::default(),
            web_push: WebPushConfig::default(),
            ntfy: Default::default(),
            slack: Default::default(),
            discord: Default::default(),
            webhook: Default::default(),
            email: Default::default(),
            apns: Default::default(),
            fcm: Default::default(),
            devices: Default::default(),
        }
    }
}

/// `HH:MM` to `HH:MM`, local time; may cross midnight.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub permissions_too: bool,
}

impl QuietHours {
    /// Whether `minute_of_day` (0..1440) is inside; `None` when a time is not `HH:MM`.
    pub fn contains(&self, minute_of_day: u32) -> Option<bool> {
        let start = parse_hhmm(&self.start)?;
        let end = parse_hhmm(&self.end)?;
        Some(if start <= end {
            (start..end).contains(&minute_of_day)
        } else {
            minute_of_day >= start || minute_of_day < end
        })
    }
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Which events notify. Each built-in rule is on by default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// An agent asks permission to run a tool (with Approve / Deny).
    pub permission: bool,
    /// An agent finished a turn and waits for its owner's input.
    pub waiting_input: bool,
    /// An agent that worked longer than `long_task_after` is done.
    pub long_task: bool,
    #[serde(with = "humantime_serde")]
    pub long_task_after: Duration,
    /// The agent exited with a non-zero code or a signal.
    pub exited_abnormally: bool,
    /// The agent errored (API errors, crashes).
    pub errored: bool,
    /// A session's (or the host's) cpu or memory stays above a level.
    pub resources: ResourceRule,
    /// Rules of the owner's own.
    pub custom: Vec<CustomRule>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            permission: true,
            waiting_input: true,
            long_task: true,
            long_task_after: Duration::from_secs(300),
            exited_abnormally: true,
            errored: true,
            resources: ResourceRule::default(),
            custom: Vec::new(),
        }
    }
}

/// Resource thresholds, for each session and for the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceRule {
    pub enabled: bool,
    /// Percent of one core (a session's process tree) or of the whole machine (the host).
    pub cpu_percent: f32,
    /// A session's resident memory, in MiB.
    pub memory_mib: u64,
    /// The host's memory in use, in percent.
    pub host_memory_percent: f32,
    /// How long a level must hold before it notifies (once, until it falls back below).
    #[serde(rename = "for", with = "humantime_serde")]
    pub for_: Duration,
}

impl Default for ResourceRule {
    fn default() -> Self {
        Self {
            enabled: true,
            cpu_percent: 95.0,
            memory_mib: 8192,
            host_memory_percent: 95.0,
            for_: Duration::from_secs(120),
        }
    }
}

/// A rule of the owner's own: every condition given must hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CustomRule {
    pub name: String,
    /// The session enters this state (`waiting_input`, `idle`, `errored`, ...).
    pub state: Option<String>,
    /// The agent kind (`claude`, `codex`, ...).
    pub agent: Option<String>,
    /// A glob on the session's name.
    pub session: Option<String>,
    /// A glob on the session's folder.
    pub cwd: Option<String>,
    /// A regular expression on the terminal's screen.
    pub output: Option<String>,
}

/// Where the owner is, and when push follows a local notification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceConfig {
    /// Use presence at all (off: every channel hears every notification at once).
    pub enabled: bool,
    /// Typing into an attached terminal, a visible UI tab or the app's focused window
    /// counts as present this long.
    #[serde(with = "humantime_serde")]
    pub active_for: Duration,
    /// With the owner present, push channels hear a notification only if it is still
    /// unanswered after this long.
    #[serde(with = "humantime_serde")]
    pub escalate_after: Duration,
    /// Which push channels reach each device, so that the device the owner is at hears a
    /// notification at once: keys are a paired device's name (or id), or `desk` for this
    /// host's own screen (a terminal typed into, the app's window); values are channel
    /// names, e.g. `desk = ["slack"]`, `"Pixel 8" = ["ntfy"]`. The desk always has the
    /// channels that are not push channels (the desktop's notifications).
    pub devices: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            active_for: Duration::from_secs(120),
            escalate_after: Duration::from_secs(60),
            devices: Default::default(),
        }
    }
}

/// The host's own desktop notifications (freedesktop D-Bus on Linux).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DesktopConfig {
    pub enabled: bool,
    /// The D-Bus address of the session bus; default `DBUS_SESSION_BUS_ADDRESS`.
    pub bus_address: Option<String>,
}

impl Default for DesktopConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bus_address: None,
        }
    }
}

/// Web Push to browsers and installed PWAs that subscribed through the UI.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebPushConfig {
    pub enabled: bool,
    /// The VAPID contact push services may write to: `mailto:you@example.com` or an
    /// `https:` URL (Apple refuses `localhost` ones).
    pub contact: String,
    /// How long a push service keeps a message for an offline device.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
}

impl Default for WebPushConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            contact: "mailto:paddock@example.com".into(),
            ttl: Duration::from_secs(600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_may_cross_midnight_and_bad_times_are_not_guessed() {
        let q = QuietHours {
            start: "22:00".into(),
            end: "07:30".into(),
            permissions_too: false,
        };
        assert_eq!(q.contains(23 * 60), Some(true));
        assert_eq!(q.contains(7 * 60 + 29), Some(true));
        assert_eq!(q.contains(7 * 60 + 30), Some(false));
        assert_eq!(q.contains(12 * 60), Some(false));
        let day = QuietHours {
            start: "12:00".into(),
            end: "13:00".into(),
            permissions_too: false,
        };
        assert_eq!(day.contains(12 * 60 + 5), Some(true));
        assert_eq!(day.contains(13 * 60), Some(false));
        let bad = QuietHours {
            start: "25:00".into(),
            end: "7".into(),
            permissions_too: false,
        };
        assert_eq!(bad.contains(0), None);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }
}
