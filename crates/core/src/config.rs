//! The supervisor's configuration: one typed struct with defaults, then `config.toml` in the
//! config directory, then `PADDOCK_*` environment variables (`PADDOCK_SAMPLE_INTERVAL=2s`,
//! nested keys with a double underscore: `PADDOCK_LOG__KEEP_DAYS=7`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variables that start with `PADDOCK_` but are not settings.
const NOT_SETTINGS: &[&str] = &[
    "PADDOCK_LOG",
    "PADDOCK_RUNTIME_DIR",
    "PADDOCK_CONFIG_DIR",
    "PADDOCK_DATA_DIR",
    "PADDOCK_SESSION_ID",
    "PADDOCK_SESSION_NAME",
];

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}. `paddock default-config` prints a valid example")]
    Invalid { path: PathBuf, message: String },
    #[error("the environment variable {var} is not valid: {message}")]
    Env { var: String, message: String },
}

/// Everything the supervisor can be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How often sessions' processes are sampled (cpu, memory, liveness).
    #[serde(with = "humantime_serde")]
    pub sample_interval: Duration,
    /// How often the process table and tmux are searched for agents Paddock did not start.
    #[serde(with = "humantime_serde")]
    pub discovery_interval: Duration,
    /// Days of history kept (activity, metrics, ended sessions).
    pub retention_days: u32,
    /// Where the database and logs live (default: the platform's data directory).
    pub data_dir: Option<PathBuf>,
    pub log: LogConfig,
    pub tmux: TmuxConfig,
    pub agents: AgentsConfig,
    pub server: ServerConfig,
    pub notify: crate::notify::config::NotifyConfig,
    // worktrees (issue 16): begin
    pub worktrees: WorktreesConfig,
    // worktrees (issue 16): end
}

// worktrees (issue 16): begin
/// Git worktrees made for sessions (`paddock run --worktree`, see `crate::worktree`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WorktreesConfig {
    /// Where they are made (default: `worktrees` in the data directory).
    pub dir: Option<PathBuf>,
}
// worktrees (issue 16): end

/// The endpoint: HTTPS REST and WSS for the UI, the apps and browsers on other devices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Serve the endpoint at all.
    pub enabled: bool,
    /// The address to listen on. Loopback (`127.0.0.1`) by default; a LAN or tailnet address
    /// (or `0.0.0.0`) opens it to other devices, always with TLS and tokens.
    pub listen: String,
    /// The TCP port (0: any free port, see `paddock status`).
    pub port: u16,
    /// Plain HTTP instead of TLS, for development: refused unless `listen` is loopback.
    pub insecure_http: bool,
    /// Requests per minute per client address before 429 (WebSocket upgrades count too).
    pub requests_per_minute: u32,
    /// Pairing attempts per minute per client address.
    pub pairing_attempts_per_minute: u32,
    /// How long a pairing offer (its secret and short code) can be used.
    #[serde(with = "humantime_serde")]
    pub pairing_ttl: Duration,
    /// How long an access token lasts; clients refresh it with their refresh token.
    #[serde(with = "humantime_serde")]
    pub access_token_ttl: Duration,
    /// How long a refresh token still works after it was rotated, for requests racing with
    /// the rotation (two tabs, a retry). Used again after that, it revokes its device (a
    /// copy is in someone else's hands). At least 1 s.
    #[serde(
        serialize_with = "humantime_serde::serialize",
        deserialize_with = "refresh_grace"
    )]
    pub refresh_grace: Duration,
    /// Browser origins besides the endpoint's own that may call it (e.g. the desktop app's
    /// `tauri://localhost`). Never a wildcard.
    pub allowed_origins: Vec<String>,
    /// Bytes of terminal input per second one WebSocket may send.
    pub ws_input_bytes_per_second: u32,
    /// The largest WebSocket message accepted, in bytes.
    pub ws_max_message_bytes: u32,
    /// Time a new connection has to finish its TLS handshake and each request's headers;
    /// a client that dawdles longer (a slowloris) is disconnected.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Connections one client address may hold open at once; more are closed at accept.
    pub max_connections_per_address: u32,
    /// Refusals (bad tokens, foreign origins, rate limits, handshakes) written to the audit
    /// log per client address per minute; more are counted and noted in the next entry, so a
    /// flood cannot fill the disk.
    pub audited_refusals_per_minute: u32,
    /// A certificate of the owner's own (PEM, leaf first, then its chain), e.g. a tailnet
    /// HTTPS certificate: browsers trust it, so service workers (Web Push) work. With `key`;
    /// without both, a self-signed certificate is made and pinned through pairing.
    pub cert: Option<std::path::PathBuf>,
    /// The private key of `cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1".into(),
            port: 7420,
            insecure_http: false,
            requests_per_minute: 100,
            pairing_attempts_per_minute: 5,
            pairing_ttl: Duration::from_secs(300),
            access_token_ttl: Duration::from_secs(900),
            refresh_grace: crate::access::ROTATION_GRACE,
            allowed_origins: Vec::new(),
            ws_input_bytes_per_second: 1 << 20,
            ws_max_message_bytes: 1 << 20,
            header_timeout: Duration::from_secs(10),
            max_connections_per_address: 64,
            audited_refusals_per_minute: 30,
            cert: None,
            key: None,
        }
    }
}

/// The supervisor's own log files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Level filter, e.g. `info` or `info,paddock_core=debug` (`PADDOCK_LOG` overrides).
    pub level: String,
    /// Days of log files kept; older ones are deleted (files older than a day are compressed).
    pub keep_days: u32,
    /// A file past this size is rotated at once, whatever the day.
    pub max_file_bytes: u64,
}

/// tmux discovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TmuxConfig {
    pub enabled: bool,
    /// Start a bridge for every agent pane found, so it can be attached to, typed into and
    /// read like Paddock's own sessions (uses the pane's `pipe-pane`).
    pub bridge: bool,
}

/// Which processes count as agents, and how Paddock follows them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// Extra agents: a name and a glob matched against the program's name, its executable's
    /// name, or the whole command line (see `paddock_monitor::AgentPattern`).
    pub extra: Vec<paddock_monitor::AgentPattern>,
    /// How long a permission request waits for a remote answer before it is left to the
    /// terminal (Claude Code gives a hook at most 10 minutes).
    #[serde(with = "humantime_serde")]
    pub permission_timeout: Duration,
    /// How plain programs' screens are read: confirm and input prompt patterns (regular
    /// expressions matched against the last non-empty row) and how recent output means busy.
    pub generic: paddock_agents::generic::GenericConfig,
    /// Give the Claude Code and Codex sessions Paddock starts Paddock's MCP server (`paddock
    /// mcp`, merged with the owner's own servers); `false` leaves their MCP configuration
    /// as the owner has it.
    pub mcp_server: bool,
    /// Keep the inherited variables that break a nested agent in the sessions the supervisor
    /// starts (see `crate::nested`); off by default.
    pub keep_nested_env: bool,
    /// Give the sessions the supervisor starts the owner's login-shell environment (see
    /// `crate::login_env`); their own variables still win.
    pub login_env: bool,
    /// Run the Codex sessions Paddock starts through Codex's app-server (`codex app-server`
    /// on a socket in the runtime directory, the terminal UI attached with `--remote`), so
    /// that their state and approval requests come from its protocol (issue 15, item 2;
    /// docs/design/agents.md, "Codex through its app-server"). Off by default: upstream
    /// marks the app-server experimental.
    pub codex_app_server: bool,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            extra: Vec::new(),
            permission_timeout: Duration::from_secs(590),
            generic: Default::default(),
            mcp_server: true,
            keep_nested_env: false,
            login_env: true,
            codex_app_server: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sample_interval: Duration::from_secs(1),
            discovery_interval: Duration::from_secs(2),
            retention_days: 30,
            data_dir: None,
            log: LogConfig::default(),
            tmux: TmuxConfig::default(),
            agents: AgentsConfig::default(),
            server: ServerConfig::default(),
            notify: Default::default(),
            worktrees: Default::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            keep_days: 30,
            max_file_bytes: 1 << 30,
        }
    }
}

impl Default for TmuxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bridge: true,
        }
    }
}

impl Config {
    /// `config.toml` in the config directory.
    pub fn default_path() -> PathBuf {
        crate::paths::config_dir().join("config.toml")
    }

    /// Defaults, then `path` if it exists, then the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Self::layered(path, text.as_deref(), std::env::vars())
    }

    /// The layering itself, for tests: file text and environment given explicitly.
    pub fn layered(
        path: &Path,
        file: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut table: toml::Table = match file {
            Some(text) => text
                .parse()
                .map_err(|e: toml::de::Error| invalid(e.to_string()))?,
            None => toml::Table::new(),
        };
        // Check the file alone first, so its errors name the file.
        toml::Value::Table(table.clone())
            .try_into::<Config>()
            .map_err(|e| invalid(e.to_string()))?;
        for (var, value) in env {
            let Some(key) = var.strip_prefix("PADDOCK_") else {
                continue;
            };
            if NOT_SETTINGS.contains(&var.as_str()) || key.is_empty() {
                continue;
            }
            let path: Vec<String> = key.split("__").map(|k| k.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, parse_env_value(&value));
            let candidate = toml::Value::Table(table.clone()).try_into::<Config>();
            if let Err(e) = candidate {
                return Err(ConfigError::Env {
                    var,
                    message: e.to_string(),
                });
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| invalid(e.to_string()))
    }

    /// The data directory in use.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(crate::paths::default_data_dir)
    }

    // worktrees (issue 16): begin
    /// The directory sessions' worktrees are made in.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.worktrees
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("worktrees"))
    }
    // worktrees (issue 16): end
}

/// The shortest `server.refresh_grace`: a client's own retry must fit in it.
pub const MIN_REFRESH_GRACE: Duration = Duration::from_secs(1);

/// `server.refresh_grace`, refused below [`MIN_REFRESH_GRACE`].
fn refresh_grace<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let grace: Duration = humantime_serde::deserialize(d)?;
    if grace < MIN_REFRESH_GRACE {
        return Err(serde::de::Error::custom(format!(
            "server.refresh_grace is {}, below its floor of 1s: a client retrying a refresh \
             would revoke its own device; set it to \"1s\" or more (default \"60s\")",
            humantime::format_duration(grace)
        )));
    }
    Ok(grace)
}

/// `42` → integer, `true` → bool, anything else → string.
fn parse_env_value(value: &str) -> toml::Value {
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    toml::Value::String(value.to_owned())
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    t.insert(last.clone(), value);
}

/// The commented example `paddock default-config` prints. A test checks it parses to the
/// defaults, so it cannot drift.
pub const DEFAULT_CONFIG_TOML: &str = r#"# Paddock supervisor configuration (config.toml in the config directory).
# Every setting can also be given as an environment variable: PADDOCK_<KEY>, with nested
# keys joined by a double underscore, e.g. PADDOCK_SAMPLE_INTERVAL=2s, PADDOCK_LOG__KEEP_DAYS=7.

# How often sessions' processes are sampled (cpu, memory, liveness).
sample_interval = "1s"
# How often the process table and tmux are searched for agents Paddock did not start.
discovery_interval = "2s"
# Days of history kept: activity, metrics and ended sessions.
retention_days = 30
# Where the database and logs live. Default: ~/.local/share/paddock
# (~/Library/Application Support/Paddock on macOS).
# data_dir = "/path/to/data"

[log]
# Level filter: error, warn, info, debug, trace; per module: "info,paddock_core=debug".
# PADDOCK_LOG overrides it.
level = "info"
# Days of log files kept (files older than a day are compressed).
keep_days = 30
# A log file past this many bytes is rotated at once.
max_file_bytes = 1073741824

[tmux]
# Find agents running in tmux panes.
enabled = true
# Bridge each agent pane found (through tmux's pipe-pane) so that `paddock attach`, `send`
# and `logs` work on it as on Paddock's own sessions.
bridge = true

[agents]
# Extra programs to treat as agents: a name and a glob matched against the program's name,
# its executable's name or the whole command line (* any run of characters, ? one character).
# extra = [{ name = "opencode", pattern = "opencode" }, { name = "mine", pattern = "*my-agent --serve*" }]
extra = []
# How long a permission request waits for an answer from Paddock before it is left to the
# agent's terminal, where it can still be answered (Claude Code gives a hook at most 600s).
permission_timeout = "9m 50s"
# Give the Claude Code and Codex sessions Paddock starts Paddock's MCP server (`paddock mcp`),
# next to the owner's own MCP servers, which stay. `paddock run --no-mcp` for one session.
mcp_server = true
# Keep the variables a parent Claude Code session leaves in the supervisor's environment
# (CLAUDECODE, CLAUDE_CODE_ENTRYPOINT, CLAUDE_CODE_REMOTE*, CLAUDE_CODE_*_FILE_DESCRIPTOR...)
# in the sessions it starts. Off: they can only break a new agent, so they are removed.
keep_nested_env = false
# Give the sessions the supervisor starts (from the UI, the phone, REST, MCP, the app) the
# environment of your login shell ($SHELL -l -i, read once, again by `paddock doctor`):
# PATH, API keys, nvm/asdf. A session's own variables win over it.
login_env = true
# Run the Codex sessions Paddock starts through `codex app-server` (experimental upstream):
# their state and approval requests then come from Codex's own protocol, exactly, and
# `paddock approve` answers them there; the terminal UI still shows in the session. Falls
# back to notify + screen when the app-server does not start (older Codex).
codex_app_server = false

[agents.generic]
# How a plain program's screen is read. Regular expressions (regex-lite syntax) matched
# against the last non-empty row: a confirm pattern means it asks its owner something, an
# input pattern that it waits at a prompt.
confirm_patterns = ['(?i)[\[(]\s*y(es)?\s*/\s*n(o)?\s*[\])]\s*[:?]?$', '(?i)\b(continue|proceed|allow|approve|overwrite|confirm)\b.*\?\s*$', '(?i)press enter to continue']
input_patterns = ['[$#%>❯»›]\s*$', '^(>>>|\.\.\.|In \[\d+\]:)\s*']
# Output within this many milliseconds means it is working.
busy_window = 3000

[worktrees]
# Where `paddock run --worktree` (and New session's worktree option) makes a git worktree
# for a session, as <repository>-<hash>/<branch>. Default: "worktrees" in the data directory.
# dir = "/home/me/worktrees"

[server]
# The HTTPS/WSS endpoint that the UI, the apps and browsers on your other devices use.
enabled = true
# Loopback by default. A LAN or tailnet address (or "0.0.0.0") opens it to other devices;
# TLS 1.3 and device tokens are always required there. `paddock up --listen ADDR` sets it too.
listen = "127.0.0.1"
# TCP port (0 picks a free one; `paddock status` shows the URL). `paddock up --port N`.
port = 7420
# Plain HTTP for development: refused unless listen is a loopback address.
insecure_http = false
# Requests per minute per client address before answers become 429 with Retry-After.
requests_per_minute = 100
# Pairing attempts per minute per client address (a secret or code guessed wrong counts).
pairing_attempts_per_minute = 5
# How long a pairing offer from `paddock pair` can be used (once).
pairing_ttl = "5m"
# How long an access token lasts before the client refreshes it.
access_token_ttl = "15m"
# How long a refresh token still works after it was rotated (for two tabs or a retry racing
# with the rotation). Used again after that, it revokes its device: a copy is elsewhere.
# At least "1s".
refresh_grace = "1m"
# Browser origins besides the endpoint's own allowed to call it, e.g. ["tauri://localhost"].
allowed_origins = []
# Terminal input per WebSocket, bytes per second.
ws_input_bytes_per_second = 1048576
# The largest WebSocket message accepted, in bytes.
ws_max_message_bytes = 1048576
# Time a new connection has to finish its TLS handshake and each request's headers.
header_timeout = "10s"
# Connections one client address may hold open at once.
max_connections_per_address = 64
# Refusals written to the audit log per client address per minute (more are counted).
audited_refusals_per_minute = 30
# A certificate of your own instead of the self-signed one (PEM files), e.g. from
# `tailscale cert`: browsers then trust the UI's origin, which Web Push needs.
# cert = "/home/me/box.tailnet.ts.net.crt"
# key = "/home/me/box.tailnet.ts.net.key"

[notify]
# Notifications: the host's desktop, Web Push to your browsers and phone, and more.
enabled = true
# Hold every notification (permission requests still wait in Paddock).
paused = false
# Where links and Approve / Deny buttons point; default: the endpoint's own URL.
# public_url = "https://mybox.tailnet.ts.net:7420"
# How long an Approve / Deny on a notification can be used.
action_ttl = "10m"
# The same rule for the same session notifies at most once in this time.
cooldown = "2m"
# Attempts per channel, and how long each may take.
attempts = 3
attempt_timeout = "10s"
# Quiet hours (local time): only permission requests get through.
# quiet_hours = { start = "22:00", end = "07:00", permissions_too = false }
# The UI's Settings > Notifications (and `paddock notifications pause|resume`) write the
# pause, cooldown, quiet hours, rules and per-device routes into this file, keeping your
# comments; the change is in force at once. Per paired device (id from `paddock devices`),
# what its browsers get by Web Push: "all" (the default), "permissions" or "off":
# devices = { "dev_1234" = { push = "permissions" } }

[notify.rules]
permission = true
waiting_input = true
# Working longer than long_task_after, then done.
long_task = true
long_task_after = "5m"
exited_abnormally = true
errored = true
# Rules of your own; every condition given must hold (globs: * and ?).
# custom = [{ name = "api idle", state = "idle", agent = "claude", cwd = "/home/me/api*" }]
custom = []

[notify.rules.resources]
# A session's processes above cpu_percent of one core or memory_mib, or the host above
# cpu_percent of the machine or host_memory_percent of its memory, for `for`: told once,
# again only after it fell back below.
enabled = true
cpu_percent = 95.0
memory_mib = 8192
host_memory_percent = 95.0
for = "2m"

[notify.presence]
# While you type into an attached terminal, look at the UI or have the app's window in
# front, push channels (phone, chat, mail) wait: the desktop tells you first, and push
# follows only if the request is still unanswered after `escalate_after`.
enabled = true
active_for = "2m"
escalate_after = "1m"

[notify.presence.devices]
# Push channels that reach a device, heard at once while you are at that device: a
# paired device's name (or id), or `desk` for this host's own screen.
# desk = ["slack"]
# "Pixel 8" = ["ntfy"]

[notify.desktop]
# The host's desktop notifications (freedesktop over D-Bus), with Approve / Deny buttons.
enabled = true
# bus_address = "unix:path=/run/user/1000/bus"

[notify.web_push]
# Browsers and installed web apps that subscribed in Settings, Notifications.
enabled = true
# A contact push services may write to (mailto: or https:).
contact = "mailto:paddock@example.com"
# How long a push service keeps a message for a device that is offline.
ttl = "10m"

# Channels through services: each off until you turn it on and fill it in. Keep secrets in
# files of their own (chmod 600) and name them with the *_file settings.

[notify.ntfy]
# ntfy.sh or your own server; Approve / Deny come back through reply_topic.
enabled = false
url = "https://ntfy.sh"
# A topic nobody guesses: on ntfy.sh the topic is the password.
topic = ""
# reply_topic = "<topic>-answers"
# token_file = "/home/me/.config/paddock/ntfy-token"
# ca_file = "/etc/ssl/my-ntfy.pem"

[notify.slack]
# An incoming webhook (its URL is its credential).
enabled = false
# webhook_url_file = "/home/me/.config/paddock/slack-webhook"

[notify.discord]
enabled = false
# webhook_url_file = "/home/me/.config/paddock/discord-webhook"

[notify.webhook]
# A JSON POST signed with HMAC-SHA256 (README: "Signed webhooks").
enabled = false
url = ""
# secret_file = "/home/me/.config/paddock/webhook-secret"

[notify.email]
enabled = false
host = ""
port = 587
# starttls (usually port 587) or tls (usually 465).
security = "starttls"
# username = "me@example.com"
# password_file = "/home/me/.config/paddock/smtp-password"
from = ""
to = []

[notify.apns]
# For a mobile app you build and sign with your own Apple key.
enabled = false
base_url = "https://api.push.apple.com"
team_id = ""
key_id = ""
# key_file = "/home/me/.config/paddock/AuthKey_ABC123.p8"
topic = ""
devices = []

[notify.fcm]
# For a mobile app you build with your own Firebase project.
enabled = false
base_url = "https://fcm.googleapis.com"
# service_account_file = "/home/me/.config/paddock/firebase-service-account.json"
devices = []
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_printed_example_is_exactly_the_defaults() {
        let c =
            Config::layered(Path::new("x"), Some(DEFAULT_CONFIG_TOML), env(&[])).expect("valid");
        assert_eq!(c, Config::default());
    }

    #[test]
    fn file_then_environment_override_defaults() {
        let file = "sample_interval = \"3s\"\n[log]\nkeep_days = 9\n";
        let c = Config::layered(
            Path::new("x"),
            Some(file),
            env(&[
                ("PADDOCK_LOG__KEEP_DAYS", "4"),
                ("PADDOCK_RETENTION_DAYS", "7"),
                ("PADDOCK_LOG", "debug"),
                ("HOME", "/h"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.sample_interval, Duration::from_secs(3));
        assert_eq!(c.log.keep_days, 4, "environment beats the file");
        assert_eq!(c.retention_days, 7);
        assert_eq!(
            c.log.level, "info",
            "PADDOCK_LOG is the log filter, not a setting"
        );
    }

    #[test]
    fn a_refresh_grace_below_its_floor_is_refused_with_the_floor_named() {
        let err = Config::layered(
            Path::new("/c.toml"),
            Some("[server]\nrefresh_grace = \"500ms\"\n"),
            env(&[]),
        )
        .expect_err("below the floor");
        assert!(err.to_string().contains("floor of 1s"), "{err}");
        let c = Config::layered(
            Path::new("x"),
            None,
            env(&[("PADDOCK_SERVER__REFRESH_GRACE", "2s")]),
        )
        .expect("valid");
        assert_eq!(c.server.refresh_grace, Duration::from_secs(2));
    }

    #[test]
    fn mistakes_are_named() {
        let err = Config::layered(
            Path::new("/c.toml"),
            Some("sample_intervall = \"1s\""),
            env(&[]),
        )
        .expect_err("typo");
        assert!(
            err.to_string().contains("/c.toml") && err.to_string().contains("sample_intervall"),
            "{err}"
        );
        let err = Config::layered(
            Path::new("x"),
            None,
            env(&[("PADDOCK_SAMPLE_INTERVAL", "soon")]),
        )
        .expect_err("bad duration");
        assert!(err.to_string().contains("PADDOCK_SAMPLE_INTERVAL"), "{err}");
    }
}
