//! The commented example configuration `paddock default-config` prints.

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
