//! The notification settings an owner changes from the UI or the CLI: the global pause, the
//! cooldown, quiet hours, the built-in rules and their parameters, and which notifications
//! go to each paired device's browsers. Read by viewers and up, changed by admins (the
//! server's route table says so). A change is checked, written into `config.toml`'s
//! `[notify]` (comments and every other key kept: the file stays the one place settings
//! live, readable and editable by hand) and put in force at once, without a restart.
//! Channels themselves (URLs, tokens, keys) stay in `config.toml` only: they carry secrets,
//! and the settings show only whether each is configured, running and healthy.

use super::config::{NotifyConfig, QuietHours};
use super::NotificationKind;
use crate::supervisor::Handle;
use paddock_proto::supervisor::HealthStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings an owner can change at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Hold every notification (requests still wait in Paddock and can be answered there).
    pub paused: bool,
    /// The same rule for the same session notifies at most once in this many seconds.
    pub cooldown_secs: u32,
    /// Nothing but permission requests is sent between `start` and `end` (local `HH:MM`).
    pub quiet_hours: Option<QuietHours>,
    pub rules: RuleSettings,
    /// Per paired device: which notifications its browsers get by Web Push. Devices not
    /// listed get everything.
    pub devices: Vec<DeviceRoute>,
}

/// The built-in rules, each on or off, with their parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    pub permission: bool,
    pub waiting_input: bool,
    pub long_task: bool,
    /// A task counts as long after this many seconds of work.
    pub long_task_after_secs: u32,
    pub exited_abnormally: bool,
    pub errored: bool,
    pub resources: ResourceSettings,
}

/// The resource-threshold rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceSettings {
    pub enabled: bool,
    /// Percent of one core (a session) or of the machine (the host).
    pub cpu_percent: f32,
    /// Resident memory in MiB.
    pub memory_mib: u32,
    /// How many seconds a level must hold before it notifies.
    pub for_secs: u32,
}

/// Which notifications one device's browsers get by Web Push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceRoute {
    /// The paired device's id.
    pub device: String,
    /// Its name (filled in by the host; ignored when sent).
    #[serde(default)]
    pub name: Option<String>,
    pub push: PushRoute,
}

/// What goes to a device by push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushRoute {
    /// Every notification.
    #[default]
    All,
    /// Only permission requests (with Approve / Deny).
    Permissions,
    /// Nothing.
    Off,
}

/// `[notify.devices.<id>]` in `config.toml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    pub push: PushRoute,
}

/// One channel as the settings page shows it: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ChannelStatus {
    /// `desktop`, `web_push`, `ntfy`, ...: the name `test/{channel}` takes.
    pub name: String,
    /// Turned on in `config.toml`.
    pub configured: bool,
    /// Started and taking notifications.
    pub running: bool,
    /// Its entry on the health board, if any.
    pub health: Option<HealthStatus>,
    /// What the health board or the host says about it, for a person.
    pub detail: String,
}

/// `GET /api/v1/notifications/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct NotifySettingsView {
    pub settings: NotifySettings,
    pub channels: Vec<ChannelStatus>,
    /// `[notify] enabled`: off means nothing is sent whatever the settings say.
    pub enabled: bool,
    /// Where the settings are kept.
    pub config_file: String,
}

/// Why settings were not changed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read {path} to save the settings: {source}; nothing was changed")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not valid TOML ({message}); fix it by hand, then try again; nothing was changed"
    )]
    Parse { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}; nothing was changed")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

const CHANNELS: [&str; 9] = [
    "desktop", "web_push", "ntfy", "slack", "discord", "webhook", "email", "apns", "fcm",
];
const DAY: u32 = 86_400;

/// Whether a notification of `kind` goes to `device`'s browsers.
pub fn routes_to(config: &NotifyConfig, device: Option<&str>, kind: NotificationKind) -> bool {
    let route = device
        .and_then(|d| config.devices.get(d))
        .map(|d| d.push)
        .unwrap_or_default();
    match route {
        PushRoute::All => true,
        PushRoute::Permissions => {
            matches!(kind, NotificationKind::Permission | NotificationKind::Test)
        }
        PushRoute::Off => kind == NotificationKind::Test,
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

impl NotifySettings {
    /// The settings as `config` has them (devices: only those with a route of their own).
    pub fn of(config: &NotifyConfig) -> Self {
        let r = &config.rules;
        Self {
            paused: config.paused,
            cooldown_secs: secs(config.cooldown),
            quiet_hours: config.quiet_hours.clone(),
            rules: RuleSettings {
                permission: r.permission,
                waiting_input: r.waiting_input,
                long_task: r.long_task,
                long_task_after_secs: secs(r.long_task_after),
                exited_abnormally: r.exited_abnormally,
                errored: r.errored,
                resources: ResourceSettings {
                    enabled: r.resources.enabled,
                    cpu_percent: r.resources.cpu_percent,
                    memory_mib: u32::try_from(r.resources.memory_mib).unwrap_or(u32::MAX),
                    for_secs: secs(r.resources.for_),
                },
            },
            devices: config
                .devices
                .iter()
                .map(|(id, d)| DeviceRoute {
                    device: id.clone(),
                    name: None,
                    push: d.push,
                })
                .collect(),
        }
    }

    /// Checks every value; the message names the field and what it accepts.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |m: String| Err(SettingsError::Invalid(m));
        if self.cooldown_secs > DAY {
            return bad(format!(
                "cooldown_secs is {}: give 0 to {DAY} seconds (a day at most)",
                self.cooldown_secs
            ));
        }
        if let Some(q) = &self.quiet_hours {
            if q.contains(0).is_none() {
                return bad(format!(
                    "quiet hours `{}` to `{}` are not both HH:MM (24-hour, e.g. 22:00 to 07:30)",
                    q.start, q.end
                ));
            }
            if q.start.trim() == q.end.trim() {
                return bad("quiet hours start and end at the same time: give two different times, or turn quiet hours off".into());
            }
        }
        let r = &self.rules;
        if !(60..=7 * DAY).contains(&r.long_task_after_secs) {
            return bad(format!(
                "rules.long_task_after_secs is {}: give 60 seconds to 7 days",
                r.long_task_after_secs
            ));
        }
        let res = &r.resources;
        if !res.cpu_percent.is_finite() || !(1.0..=100_000.0).contains(&res.cpu_percent) {
            return bad(format!(
                "rules.resources.cpu_percent is {}: give 1 to 100000 (percent of one core)",
                res.cpu_percent
            ));
        }
        if res.memory_mib == 0 {
            return bad("rules.resources.memory_mib is 0: give a level in MiB, 1 or more".into());
        }
        if !(1..=DAY).contains(&res.for_secs) {
            return bad(format!(
                "rules.resources.for_secs is {}: give 1 second to a day",
                res.for_secs
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.devices {
            if !seen.insert(d.device.as_str()) {
                return bad(format!(
                    "device `{}` is listed twice in devices: give each device once",
                    d.device
                ));
            }
        }
        Ok(())
    }

    /// `base` with these settings applied.
    pub fn apply(&self, base: &NotifyConfig) -> NotifyConfig {
        let mut c = base.clone();
        c.paused = self.paused;
        c.cooldown = Duration::from_secs(self.cooldown_secs.into());
        c.quiet_hours = self.quiet_hours.clone();
        let r = &self.rules;
        c.rules.permission = r.permission;
        c.rules.waiting_input = r.waiting_input;
        c.rules.long_task = r.long_task;
        c.rules.long_task_after = Duration::from_secs(r.long_task_after_secs.into());
        c.rules.exited_abnormally = r.exited_abnormally;
        c.rules.errored = r.errored;
        c.rules.resources.enabled = r.resources.enabled;
        c.rules.resources.cpu_percent = r.resources.cpu_percent;
        c.rules.resources.memory_mib = r.resources.memory_mib.into();
        c.rules.resources.for_ = Duration::from_secs(r.resources.for_secs.into());
        c.devices = self
            .devices
            .iter()
            .filter(|d| d.push != PushRoute::All)
            .map(|d| (d.device.clone(), DeviceConfig { push: d.push }))
            .collect::<BTreeMap<_, _>>();
        c
    }
}

/// Writes `settings` into the `[notify]` table of the TOML text `file` (empty for a new
/// file), keeping every comment and every other key.
pub fn write_into(file: &str, settings: &NotifySettings) -> Result<String, String> {
    use toml_edit::{Document, Item, Table};
    let mut doc: Document = file
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let notify = table_at(doc.as_table_mut(), "notify")?;
    set(notify, "paused", settings.paused);
    set(notify, "cooldown", human(settings.cooldown_secs));
    match &settings.quiet_hours {
        Some(q) => {
            let t = table_at(notify, "quiet_hours")?;
            set(t, "start", q.start.trim());
            set(t, "end", q.end.trim());
            set(t, "permissions_too", q.permissions_too);
        }
        None => {
            notify.remove("quiet_hours");
        }
    }
    let r = &settings.rules;
    let rules = table_at(notify, "rules")?;
    set(rules, "permission", r.permission);
    set(rules, "waiting_input", r.waiting_input);
    set(rules, "long_task", r.long_task);
    set(rules, "long_task_after", human(r.long_task_after_secs));
    set(rules, "exited_abnormally", r.exited_abnormally);
    set(rules, "errored", r.errored);
    let res = table_at(rules, "resources")?;
    set(res, "enabled", r.resources.enabled);
    set(res, "cpu_percent", f64::from(r.resources.cpu_percent));
    set(res, "memory_mib", i64::from(r.resources.memory_mib));
    set(res, "for", human(r.resources.for_secs));
    let devices = table_at(notify, "devices")?;
    devices.clear();
    for d in settings.devices.iter().filter(|d| d.push != PushRoute::All) {
        let mut t = Table::new();
        set(
            &mut t,
            "push",
            match d.push {
                PushRoute::All => "all",
                PushRoute::Permissions => "permissions",
                PushRoute::Off => "off",
            },
        );
        devices.insert(&d.device, Item::Table(t));
    }
    devices.set_implicit(true);
    Ok(doc.to_string())
}

/// `table[key] = value`, keeping the comment the owner wrote after the old value.
fn set(table: &mut toml_edit::Table, key: &str, value: impl Into<toml_edit::Value>) {
    let mut new: toml_edit::Value = value.into();
    if let Some(toml_edit::Item::Value(old)) = table.get(key) {
        *new.decor_mut() = old.decor().clone();
    }
    table[key] = toml_edit::Item::Value(new);
}

/// `table[key]` as a table, made if missing; an error if the file has something else there.
fn table_at<'a>(
    table: &'a mut toml_edit::Table,
    key: &str,
) -> Result<&'a mut toml_edit::Table, String> {
    let item = table
        .entry(key)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    if let toml_edit::Item::Value(toml_edit::Value::InlineTable(inline)) = item {
        let t = std::mem::take(inline).into_table();
        *item = toml_edit::Item::Table(t);
    }
    item.as_table_mut()
        .ok_or_else(|| format!("`{key}` in the file is not a table"))
}

/// Seconds as `humantime` writes them (`2m`, `1h 30m`), which `config.toml` reads back.
fn human(secs: u32) -> String {
    if secs == 0 {
        return "0s".into();
    }
    humantime::format_duration(Duration::from_secs(secs.into())).to_string()
}

/// Serialises changes: read, edit and write of the file happen one at a time.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Handle {
    /// The settings in force, every paired device's route and every channel's state.
    pub fn notify_settings(&self) -> NotifySettingsView {
        let notifier = self.notifier();
        let config = notifier.config();
        let mut settings = NotifySettings::of(&config);
        settings.devices = self
            .access()
            .devices()
            .into_iter()
            .filter(|d| d.revoked_at.is_none())
            .map(|d| DeviceRoute {
                push: config
                    .devices
                    .get(d.id.0.as_str())
                    .map(|c| c.push)
                    .unwrap_or_default(),
                device: d.id.0,
                name: Some(d.name),
            })
            .collect();
        let board = self.health().components();
        let channels = CHANNELS
            .iter()
            .map(|&name| {
                let health = board
                    .iter()
                    .find(|c| c.name == super::notifier::health_name(name));
                let running = notifier.channel(name).is_some();
                let configured = configured(&config, name);
                let detail = match (health, configured, running) {
                    (Some(h), _, _) => h.message.clone(),
                    (None, false, _) => format!("not set up: see [notify.{name}] in config.toml"),
                    (None, true, false) => "set up, but not started on this host".into(),
                    (None, true, true) => "ready".into(),
                };
                ChannelStatus {
                    name: name.into(),
                    configured,
                    running,
                    health: health.map(|h| h.status),
                    detail,
                }
            })
            .collect();
        NotifySettingsView {
            settings,
            channels,
            enabled: config.enabled,
            config_file: self.config_file().display().to_string(),
        }
    }

    /// Checks `settings`, writes them into `config.toml` and puts them in force. Bad values
    /// or an unwritable file change nothing.
    pub fn set_notify_settings(
        &self,
        settings: &NotifySettings,
    ) -> Result<NotifySettingsView, SettingsError> {
        settings.validate()?;
        for d in &settings.devices {
            let known = self
                .access()
                .device(&paddock_proto::access::DeviceId(d.device.clone()))
                .is_some_and(|v| v.revoked_at.is_none());
            if !known {
                return Err(SettingsError::Invalid(format!(
                    "no paired device `{}`: `paddock devices` lists them",
                    d.device
                )));
            }
        }
        let _writing = WRITING.lock().unwrap_or_else(|p| p.into_inner());
        save(self.config_file(), settings)?;
        let notifier = self.notifier();
        notifier.set_config(settings.apply(&notifier.config()));
        tracing::info!(paused = settings.paused, "notification settings changed");
        self.bus()
            .publish(crate::events::Event::NotifySettingsUpdate {
                paused: settings.paused,
            });
        Ok(self.notify_settings())
    }

    /// Pauses or resumes every notification (kept in `config.toml`).
    pub fn set_notify_paused(&self, paused: bool) -> Result<NotifySettingsView, SettingsError> {
        let mut settings = NotifySettings::of(&self.notifier().config());
        settings.paused = paused;
        self.set_notify_settings(&settings)
    }
}

fn save(path: &Path, settings: &NotifySettings) -> Result<(), SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(SettingsError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let out = write_into(&text, settings).map_err(|message| SettingsError::Parse {
        path: path.to_owned(),
        message,
    })?;
    crate::keyfile::write_private(path, out.as_bytes()).map_err(|source| SettingsError::Write {
        path: path.to_owned(),
        source,
    })
}

fn configured(c: &NotifyConfig, name: &str) -> bool {
    match name {
        "desktop" => c.desktop.enabled,
        "web_push" => c.web_push.enabled,
        "ntfy" => c.ntfy.enabled,
        "slack" => c.slack.enabled,
        "discord" => c.discord.enabled,
        "webhook" => c.webhook.enabled,
        "email" => c.email.enabled,
        "apns" => c.apns.enabled,
        "fcm" => c.fcm.enabled,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed() -> NotifySettings {
        let mut s = NotifySettings::of(&NotifyConfig::default());
        s.paused = true;
        s.cooldown_secs = 300;
        s.quiet_hours = Some(QuietHours {
            start: "22:00".into(),
            end: "07:30".into(),
            permissions_too: false,
        });
        s.rules.waiting_input = false;
        s.rules.long_task_after_secs = 900;
        s.devices = vec![DeviceRoute {
            device: "d1".into(),
            name: None,
            push: PushRoute::Permissions,
        }];
        s
    }

    #[test]
    fn settings_written_into_the_file_read_back_the_same_and_keep_the_owners_comments() {
        let file = "# my host\n[server]\nport = 7420 # mine\n\n[notify]\n# keep me\nenabled = true\ncooldown = \"2m\" # two minutes\n[notify.ntfy]\nenabled = true\ntopic = \"t\"\n";
        let s = changed();
        let out = write_into(file, &s).expect("valid file");
        for kept in ["# my host", "# keep me", "# mine", "# two minutes"] {
            assert!(out.contains(kept), "{kept} lost: {out}");
        }
        assert!(out.contains("topic = \"t\""), "{out}");
        let config = crate::config::Config::layered(Path::new("c.toml"), Some(&out), [])
            .expect("the written file loads");
        assert_eq!(NotifySettings::of(&config.notify), s);
        assert!(config.notify.ntfy.enabled);
        // Back to defaults: quiet hours and routes go away.
        let mut back = s.clone();
        back.quiet_hours = None;
        back.devices[0].push = PushRoute::All;
        let again = write_into(&out, &back).expect("valid");
        let config =
            crate::config::Config::layered(Path::new("c.toml"), Some(&again), []).expect("loads");
        assert_eq!(config.notify.quiet_hours, None);
        assert!(config.notify.devices.is_empty());
    }

    #[test]
    fn bad_values_are_refused_with_what_is_accepted() {
        let mut s = changed();
        s.quiet_hours = Some(QuietHours {
            start: "25:00".into(),
            end: "07:00".into(),
            permissions_too: false,
        });
        let e = s.validate().expect_err("25:00 is no time").to_string();
        assert!(e.contains("HH:MM"), "{e}");
        let mut s = changed();
        s.rules.resources.cpu_percent = f32::NAN;
        assert!(s.validate().is_err());
        let mut s = changed();
        s.cooldown_secs = DAY + 1;
        assert!(s
            .validate()
            .expect_err("too long")
            .to_string()
            .contains("cooldown_secs"));
        let mut s = changed();
        s.devices.push(s.devices[0].clone());
        assert!(s
            .validate()
            .expect_err("twice")
            .to_string()
            .contains("twice"));
        assert!(changed().validate().is_ok());
    }

    #[test]
    fn a_device_routed_to_permissions_gets_only_requests_and_tests() {
        let config = changed().apply(&NotifyConfig::default());
        let perm = NotificationKind::Permission;
        let done = NotificationKind::TaskFinished;
        assert!(routes_to(&config, Some("d1"), perm));
        assert!(!routes_to(&config, Some("d1"), done));
        assert!(routes_to(&config, Some("d2"), done), "unlisted: everything");
        assert!(routes_to(&config, None, done));
    }
}
