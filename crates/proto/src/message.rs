//! Control messages: the JSON objects `{type, id?, payload}` carried by control frames.
//!
//! `type` is one of `request`, `response`, `notification`, `error`. Requests and responses
//! carry an `id` chosen by the requester; an error answering a request carries its id, an
//! error about the connection itself has none. Payloads are tagged by `op` (requests,
//! responses, notifications) so that every message says what it is. An `op` this build does
//! not know decodes to `Unknown` and is answered with an `unknown_request` error; the
//! connection stays open.

use crate::ids::{ClientId, SessionId};
use crate::supervisor::Backend;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// One control message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// Asks the peer to do something; answered by a `response` or an `error` with the same id.
    Request { id: u64, payload: Request },
    /// The successful answer to the request with this id.
    Response { id: u64, payload: Response },
    /// Something happened that the peer did not ask about (lag, exit, resize).
    Notification { payload: Notification },
    /// A failed request (with its id) or a fault of the connection (without).
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        payload: ErrorPayload,
    },
}

/// What a client asks of a holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The first message on every connection.
    Hello(Hello),
    /// The session's metadata, fresh.
    Info,
    /// Resize the terminal (read-write clients only).
    Resize { size: Size },
    /// Send a signal to the agent's process group (read-write clients only).
    Signal { signal: Signal },
    /// Start the same command again, with the same cwd and environment, in the same session
    /// (read-write clients only). A running agent is stopped first (TERM, then KILL after 3 s).
    Restart,
    /// Remove the session: its socket and metadata go and the holder exits. Refused while the
    /// agent runs unless `force`, which kills it first (read-write clients only).
    Remove {
        #[serde(default)]
        force: bool,
    },
    /// The supervisor's sessions, of every backend (supervisor only).
    ListSessions,
    /// A holder was just started: adopt it now and answer, with `sessions` holding that one
    /// session, once the supervisor lists it, so that the starter's next `ls` shows it
    /// (supervisor only).
    Adopt { session: SessionId },
    // --- begin: Claude Code background agents (issue 15, item 1) ---
    /// Act on one of Claude Code's background agents through Claude's own commands; answered
    /// with `sessions` holding it as listed afterwards (supervisor only).
    ClaudeBg {
        session: SessionId,
        action: BgAction,
    },
    /// Start a Claude Code background agent (`claude --bg PROMPT` in `cwd`); answered with
    /// `sessions` holding it once the supervisor lists it (supervisor only).
    StartBackground { prompt: String, cwd: String },
    // --- end: Claude Code background agents ---
    /// The supervisor's own status and health (supervisor only).
    Status,
    /// A one-time pairing offer for a new device with this role (supervisor only).
    CreatePairing {
        role: crate::access::Role,
        /// How long the offer lasts; the configured `server.pairing_ttl` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_secs: Option<u64>,
    },
    /// Paired devices, revoked ones included (supervisor only).
    ListDevices,
    /// Rename a paired device (supervisor only).
    RenameDevice {
        id: crate::access::DeviceId,
        name: String,
    },
    /// Revoke a device: its tokens stop working and its live sockets close (supervisor only).
    RevokeDevice { id: crate::access::DeviceId },
    /// The screen as plain text, one string per row (holders).
    Screen,
    /// An agent's hook fired (`paddock hook`; supervisor only). Answered with `hook_reply`,
    /// at once, except for a permission request, which waits for a decision.
    Hook(Box<crate::agent::HookCall>),
    /// Permission requests: pending ones, or with `all` the recently decided too (supervisor
    /// only).
    Permissions {
        #[serde(default)]
        all: bool,
    },
    /// The notifications made lately and every channel's attempts (supervisor only).
    Notifications {
        #[serde(default = "default_notifications")]
        limit: u32,
    },
    /// Send a test notification through one channel and wait for the outcome (supervisor
    /// only).
    NotifyTest { channel: String },
    /// Hold every notification, or send them again (kept in `config.toml`; supervisor only).
    NotifyPause { paused: bool },
    /// Answer a permission request; the first answer wins (supervisor only).
    Decide {
        request: crate::agent::PermissionId,
        decision: crate::agent::Decision,
        /// Who answers, for the audit log and for a late answer's error.
        by: String,
    },
    /// What a session's transcript says: task, actions, files, progress, thinking, tokens,
    /// cost (supervisor only).
    Insight { session: String },
    /// The history of agent sessions (most recent first), or with `search` the prompts and
    /// answers that match those words (supervisor only).
    History {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        search: Option<String>,
        #[serde(default)]
        limit: u32,
    },
    /// A control action on a session named by id or name (supervisor only).
    Control {
        session: String,
        control: crate::agent::Control,
        by: String,
    },
    /// A request this build does not know, or one this server does not serve.
    #[serde(other)]
    Unknown,
}

/// The opening request: who the client is and what it wants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the client speaks.
    pub version: u32,
    /// Whether the client may type, resize and signal.
    pub mode: Mode,
    /// Whether the client wants terminal output. A client that only queries or sends
    /// (`paddock ls`, `paddock send`) says `false` and is not counted as attached.
    #[serde(default = "yes")]
    pub stream: bool,
    /// Where the output stream should begin.
    #[serde(default)]
    pub start: Start,
    /// The client's terminal size; a read-write client's size is applied when it attaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Size>,
    /// Tolerate falling behind by up to the whole ring before being resynced with a snapshot,
    /// instead of the interactive limit. For followers that must see every byte.
    #[serde(default)]
    pub lossless: bool,
    /// Make the agent wait for this client rather than lose output to it (protocol 2; for
    /// local followers such as `paddock logs --follow --raw`, never for network clients):
    /// while the client is a whole ring behind, the holder stops reading the terminal. A
    /// client that reads nothing for `stall_ms` while the agent waits on it is demoted (a
    /// `demoted` notification) and is from then on an ordinary `lossless` client. Implies
    /// `lossless`. A holder of protocol 1 ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backpressure: Option<Backpressure>,
    /// A label for logs, e.g. `attach` or `logs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Be told, with `output` notifications, when the terminal prints (at most a few times a
    /// second). The supervisor asks for it to follow screens without streaming them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub activity: bool,
    /// The client relays for someone elsewhere (the endpoint's terminals for browsers and
    /// phones): its typing is not someone at this host's desk, so it sends no `typed`
    /// notifications (the endpoint reports that device's presence itself).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub relay: bool,
}

fn default_notifications() -> u32 {
    100
}

fn yes() -> bool {
    true
}

impl Hello {
    /// A hello of this build's version: streaming from a snapshot, no size, interactive lag.
    pub fn new(mode: Mode) -> Self {
        Self {
            version: crate::PROTOCOL_VERSION,
            mode,
            stream: true,
            start: Start::Snapshot,
            size: None,
            lossless: false,
            backpressure: None,
            client_name: None,
            activity: false,
            relay: false,
        }
    }

    /// A hello for a connection that only sends requests or input and wants no output.
    pub fn control(mode: Mode) -> Self {
        Self {
            stream: false,
            ..Self::new(mode)
        }
    }
}

/// The terms of [`Hello::backpressure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backpressure {
    /// How long, in milliseconds, the client may read nothing while the agent waits on it
    /// before it is demoted. The holder caps it at [`Backpressure::MAX_STALL_MS`].
    pub stall_ms: u64,
}

impl Backpressure {
    /// The stall limit `paddock logs` asks for: 10 seconds.
    pub const DEFAULT_STALL_MS: u64 = 10_000;
    /// The longest stall a holder accepts: a paused reader never holds an agent longer.
    pub const MAX_STALL_MS: u64 = 60_000;
}

/// Read-only clients watch; read-write clients may also type, resize and signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    ReadOnly,
    ReadWrite,
}

/// Where a client's output stream begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Start {
    /// A snapshot of the current screen, then live output (what an attaching terminal wants).
    #[default]
    Snapshot,
    /// Exactly the bytes after `offset` if they are still in the ring, else a snapshot.
    Offset { offset: u64 },
    /// From the oldest byte still in the ring.
    RingStart,
    /// Live output only.
    End,
}

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Size {
    pub cols: u16,
    pub rows: u16,
}

impl Size {
    /// The smallest and largest sizes a holder accepts.
    pub const MIN: Size = Size { cols: 2, rows: 1 };
    pub const MAX: Size = Size {
        cols: 1000,
        rows: 500,
    };

    /// Whether this size is within [`Size::MIN`]..=[`Size::MAX`].
    pub fn is_valid(self) -> bool {
        (Self::MIN.cols..=Self::MAX.cols).contains(&self.cols)
            && (Self::MIN.rows..=Self::MAX.rows).contains(&self.rows)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

/// The signals a client may send to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    Int,
    Term,
    Kill,
    Hup,
    Stop,
    Cont,
}

impl Signal {
    pub const ALL: [Signal; 6] = [
        Signal::Int,
        Signal::Term,
        Signal::Kill,
        Signal::Hup,
        Signal::Stop,
        Signal::Cont,
    ];

    /// The conventional name, e.g. `INT`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
            Signal::Hup => "HUP",
            Signal::Stop => "STOP",
            Signal::Cont => "CONT",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string is not a signal this protocol carries.
#[derive(Debug, thiserror::Error)]
#[error("unknown signal `{0}`: use one of INT, TERM, KILL, HUP, STOP, CONT")]
pub struct UnknownSignal(pub String);

impl FromStr for Signal {
    type Err = UnknownSignal;

    /// Accepts `INT`, `int`, `SIGINT` or `2` (numbers as on Linux and macOS for these six,
    /// except STOP and CONT which differ, so only names are accepted for those).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        let sig = match name {
            "INT" | "2" => Signal::Int,
            "TERM" | "15" => Signal::Term,
            "KILL" | "9" => Signal::Kill,
            "HUP" | "1" => Signal::Hup,
            "STOP" => Signal::Stop,
            "CONT" => Signal::Cont,
            _ => return Err(UnknownSignal(s.to_owned())),
        };
        Ok(sig)
    }
}

/// What to do to a Claude Code background agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BgAction {
    /// Open its terminal: `claude attach <id>` in a holder, linked to the session.
    Open,
    /// `claude stop <id>`: it ends; its conversation is kept.
    Stop,
    /// `claude respawn <id>`: start it again, same id and conversation.
    Respawn,
}

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

/// Things a holder tells its clients unasked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Notification {
    /// The client fell too far behind; the bytes from `from` to `to` were skipped and a
    /// snapshot at `to` follows.
    Lagged { from: u64, to: u64 },
    /// The terminal was resized (by another client, or by this one).
    Resized { size: Size },
    /// The agent exited. The screen and the ring stay readable until the holder's grace
    /// period ends.
    Exited {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
    },
    /// The agent was started again with a new pid.
    Restarted { pid: u32 },
    /// The terminal printed; `end` is the output offset now (for clients that asked for
    /// `activity`; sent at most every 200 ms while output flows, and once when it stops).
    Output { end: u64 },
    /// Someone typed into the terminal through a client that streams it (a person at
    /// `paddock attach` or the UI's terminal, not `send` or the supervisor); `count` is the
    /// number of input writes so far. Sent to `activity` clients at once, then at most every
    /// few seconds while typing goes on: the supervisor learns where its owner is without a
    /// message per keystroke.
    Typed { count: u64 },
    /// The holder is going away (grace period over, or the session was removed).
    Closing { reason: String },
    /// The agent no longer waits for this client, which had asked for `backpressure`:
    /// `reason` says why (it read nothing for its stall limit while the agent waited; the
    /// terminal cannot be held back). It stays attached as a `lossless` client: if it falls
    /// out of the ring it is told `lagged` and resynced.
    Demoted { reason: String },
    /// The program reported its status to its terminal (OSC 7501): `status` is the record
    /// about the whole program now, `None` once it cleared it (protocol 3; sent at once to
    /// `activity` clients of version 3 or later).
    ProgramStatus {
        #[serde(default)]
        status: Option<crate::program_status::ProgramStatus>,
    },
    /// A notification this build does not know.
    #[serde(other)]
    Unknown,
}

/// An error's code (stable, for programs) and message (for people: what happened and what
/// to do next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorPayload {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ErrorPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame could not be decoded (too large, unknown tag, invalid JSON); the connection
    /// is closed.
    BadFrame,
    /// The first message was not `hello`, or a message arrived that makes no sense here.
    Protocol,
    /// The client's protocol version is not supported.
    UnsupportedVersion,
    /// A request this holder does not know.
    UnknownRequest,
    /// A read-only client tried to type, resize or signal.
    ReadOnly,
    /// The agent has exited; input and signals have nowhere to go.
    SessionExited,
    /// The agent is still running.
    SessionRunning,
    /// A size outside the accepted range.
    InvalidSize,
    /// The operating system refused (e.g. a signal could not be sent).
    Os,
    /// The session's backend cannot do this (e.g. restart a tmux pane Paddock did not start).
    Unsupported,
    /// A fault in the holder itself.
    Internal,
    /// No session, or no permission request, by that id or name.
    NotFound,
    /// The permission request was already answered or withdrawn; the message says by whom
    /// and when.
    AlreadyDecided,
    /// The request is not valid (e.g. an empty message, a suggestion that does not exist).
    Invalid,
    /// A code this build does not know.
    #[serde(other)]
    Unknown,
}

/// Whether the agent is running or has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Running,
    Exited,
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionState::Running => "running",
            SessionState::Exited => "exited",
        })
    }
}

/// A session's metadata, as the holder keeps it in `<id>.json` beside its socket and as it
/// answers `info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub name: String,
    /// The program, as given.
    pub command: String,
    pub args: Vec<String>,
    pub cwd: String,
    /// The agent's pid (also its process group id).
    pub pid: u32,
    /// The holder's own pid.
    pub holder_pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub size: Size,
    pub state: SessionState,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The signal that ended the agent, e.g. `KILL`.
    #[serde(default)]
    pub exit_signal: Option<String>,
    #[serde(default)]
    pub exited_at: Option<String>,
    /// Clients streaming output right now.
    #[serde(default)]
    pub clients: u32,
    #[serde(default)]
    pub restarts: u32,
    /// Total bytes of output since the session began (the next byte's offset).
    #[serde(default)]
    pub output_end: u64,
    /// When the terminal last printed (RFC 3339 with milliseconds, UTC); absent until it
    /// prints, and from holders older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_output_at: Option<String>,
    /// The oldest offset still in the ring.
    #[serde(default)]
    pub ring_start: u64,
    /// Ring capacity in bytes.
    #[serde(default)]
    pub ring_capacity: u64,
    /// Where the terminal lives: `holder` (a PTY the holder owns) or `tmux` (a tmux pane the
    /// holder mirrors, a "tmux bridge").
    #[serde(default)]
    pub backend: Backend,
    /// The pane a tmux bridge mirrors; absent for other sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux: Option<TmuxTarget>,
    /// What the program last reported to its terminal about itself (OSC 7501), if it did;
    /// absent from holders older than protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_status: Option<crate::program_status::ProgramStatus>,
}

/// A tmux pane: the server's socket and the pane's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TmuxTarget {
    /// The tmux server's socket, e.g. `/tmp/tmux-1000/default` (`tmux -S`).
    pub socket: PathBuf,
    /// The pane's id, e.g. `%3` (a target such as `work:1.0` is accepted when starting a
    /// bridge and resolved to the id).
    pub pane: String,
}

impl SessionInfo {
    /// The command line as one shell-like string, for display.
    pub fn command_line(&self) -> String {
        std::iter::once(self.command.as_str())
            .chain(self.args.iter().map(String::as_str))
            .map(quote_arg)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The row `paddock ls --json` prints for this session.
    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            command: self.command_line(),
            cwd: self.cwd.clone(),
            pid: self.pid,
            state: self.state,
            exit_code: self.exit_code,
            started_at: self.started_at.clone(),
            clients: self.clients,
        }
    }
}

/// Quotes an argument for display when it contains anything a shell would split or expand.
fn quote_arg(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One row of `paddock ls --json`: exactly these fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: SessionId,
    pub name: String,
    pub command: String,
    pub cwd: String,
    pub pid: u32,
    pub state: SessionState,
    pub exit_code: Option<i32>,
    pub started_at: String,
    pub clients: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SessionInfo {
        SessionInfo {
            id: SessionId::parse("abc123").expect("valid"),
            name: "build".into(),
            command: "bash".into(),
            args: vec!["-c".into(), "echo 'hi'; exit 3".into()],
            cwd: "/tmp".into(),
            pid: 4242,
            holder_pid: 4241,
            started_at: "2026-11-22T02:00:00Z".into(),
            size: Size { cols: 80, rows: 24 },
            state: SessionState::Exited,
            exit_code: Some(3),
            exit_signal: None,
            exited_at: Some("2026-11-22T02:00:01Z".into()),
            clients: 2,
            restarts: 1,
            output_end: 10,
            last_output_at: Some("2026-11-22T02:00:00.250Z".into()),
            ring_start: 0,
            ring_capacity: 4 << 20,
            backend: Backend::Holder,
            tmux: None,
            program_status: None,
        }
    }

    fn bridge_info() -> SessionInfo {
        SessionInfo {
            backend: Backend::Tmux,
            tmux: Some(TmuxTarget {
                socket: "/tmp/tmux-1000/default".into(),
                pane: "%3".into(),
            }),
            exit_code: None,
            ..info()
        }
    }

    fn delivery() -> crate::notify::DeliveryView {
        crate::notify::DeliveryView {
            notification: "n1".into(),
            channel: "desktop".into(),
            status: crate::notify::DeliveryStatus::Delivered,
            attempts: 1,
            error: None,
            latency_ms: Some(12),
        }
    }

    fn permission() -> crate::agent::PermissionRequest {
        crate::agent::PermissionRequest {
            id: "p1".into(),
            session: SessionId::parse("abc123").expect("valid"),
            agent_session: Some("e8c4".into()),
            tool: "Bash".into(),
            input: serde_json::json!({"command": "ls"}),
            suggestions: vec![serde_json::json!({"type": "addDirectories"})],
            created_at: "2026-11-22T02:00:00Z".into(),
            expires_at: "2026-11-22T02:10:00Z".into(),
            channel: crate::agent::AnswerChannel::Hook,
            questions: Vec::new(),
            outcome: Some(crate::agent::PermissionOutcome::Decided {
                decision: crate::agent::Decision::Allow,
                by: "cli".into(),
                at: "2026-11-22T02:00:01Z".into(),
            }),
        }
    }

    fn all_messages() -> Vec<Message> {
        let mut requests = vec![
            Request::Hello(Hello {
                version: 1,
                mode: Mode::ReadWrite,
                stream: true,
                start: Start::Offset { offset: 99 },
                size: Some(Size { cols: 80, rows: 24 }),
                lossless: true,
                backpressure: Some(Backpressure { stall_ms: 2500 }),
                client_name: Some("attach".into()),
                activity: true,
                relay: true,
            }),
            Request::Hello(Hello {
                version: 1,
                mode: Mode::ReadOnly,
                stream: false,
                start: Start::RingStart,
                size: None,
                lossless: false,
                backpressure: None,
                client_name: None,
                activity: false,
                relay: false,
            }),
            Request::Info,
            Request::Resize {
                size: Size { cols: 1, rows: 2 },
            },
            Request::Restart,
            Request::Remove { force: true },
            Request::Screen,
            Request::Hook(Box::new(crate::agent::HookCall {
                agent: "claude".into(),
                session: Some(SessionId::parse("abc123").expect("valid")),
                ancestors: vec![10, 1],
                agent_home: Some("/home/dev/.codex".into()),
                payload: serde_json::json!({"hook_event_name": "Stop"}),
            })),
            Request::Permissions { all: true },
            Request::Adopt {
                session: SessionId::parse("abc123").expect("valid"),
            },
            Request::ClaudeBg {
                session: SessionId::parse("cbg-e21643de").expect("valid"),
                action: BgAction::Respawn,
            },
            Request::StartBackground {
                prompt: "say hello".into(),
                cwd: "/tmp".into(),
            },
            Request::Notifications { limit: 5 },
            Request::NotifyTest {
                channel: "desktop".into(),
            },
            Request::NotifyPause { paused: true },
            Request::History {
                search: Some("flaky test".into()),
                limit: 20,
            },
            Request::Decide {
                request: "p1".into(),
                decision: crate::agent::Decision::Deny {
                    message: Some("no".into()),
                },
                by: "cli".into(),
            },
            Request::Control {
                session: "build".into(),
                control: crate::agent::Control::Interrupt { message: None },
                by: "cli".into(),
            },
        ];
        requests.extend(Signal::ALL.map(|signal| Request::Signal { signal }));
        let responses = vec![
            Response::Hello {
                version: 1,
                client: ClientId(3),
                session: Box::new(info()),
                stream: StreamStart {
                    kind: StreamKind::Snapshot,
                    offset: 10,
                    gap: true,
                },
            },
            Response::Info {
                session: Box::new(info()),
            },
            Response::Info {
                session: Box::new(bridge_info()),
            },
            Response::Screen {
                rows: vec!["$ ls".into(), "".into()],
                offset: 7,
                title: "bash".into(),
            },
            Response::HookReply { output: None },
            Response::HookReply {
                output: Some(serde_json::json!({"hookSpecificOutput": {}})),
            },
            Response::Permissions {
                requests: vec![permission()],
            },
            Response::Notifications {
                notifications: Vec::new(),
                deliveries: vec![delivery()],
            },
            Response::NotifyTested {
                delivery: delivery(),
            },
            Response::Permission {
                request: Box::new(permission()),
            },
            Response::Ok,
            Response::Message {
                receipt: Box::new(crate::agent::MessageReceipt {
                    outcome: crate::agent::InputOutcome::Queued,
                    detail: "queued".into(),
                    session: crate::supervisor::SessionView::from_holder(&info(), None),
                }),
            },
        ];
        let notifications = vec![
            Notification::Lagged { from: 1, to: 2 },
            Notification::Resized {
                size: Size { cols: 3, rows: 4 },
            },
            Notification::Exited {
                code: Some(1),
                signal: None,
            },
            Notification::Exited {
                code: None,
                signal: Some("KILL".into()),
            },
            Notification::Restarted { pid: 5 },
            Notification::Output { end: 77 },
            Notification::Typed { count: 3 },
            Notification::Closing {
                reason: "grace period over".into(),
            },
            Notification::Demoted {
                reason: "read nothing for 10 s".into(),
            },
        ];
        let codes = [
            ErrorCode::BadFrame,
            ErrorCode::Protocol,
            ErrorCode::UnsupportedVersion,
            ErrorCode::UnknownRequest,
            ErrorCode::ReadOnly,
            ErrorCode::SessionExited,
            ErrorCode::SessionRunning,
            ErrorCode::InvalidSize,
            ErrorCode::Os,
            ErrorCode::Unsupported,
            ErrorCode::Internal,
            ErrorCode::NotFound,
            ErrorCode::AlreadyDecided,
            ErrorCode::Invalid,
        ];
        let mut all: Vec<Message> = Vec::new();
        all.extend(
            requests
                .into_iter()
                .enumerate()
                .map(|(i, payload)| Message::Request {
                    id: i as u64,
                    payload,
                }),
        );
        all.extend(
            responses
                .into_iter()
                .map(|payload| Message::Response { id: 9, payload }),
        );
        all.extend(
            notifications
                .into_iter()
                .map(|payload| Message::Notification { payload }),
        );
        all.extend(codes.iter().enumerate().map(|(i, &code)| Message::Error {
            id: (i % 2 == 0).then_some(i as u64),
            payload: ErrorPayload::new(code, "it went wrong; try again"),
        }));
        all
    }

    #[test]
    fn every_message_round_trips_through_json() {
        for msg in all_messages() {
            let json = serde_json::to_string(&msg).expect("encode");
            let back: Message = serde_json::from_str(&json).expect("decode");
            assert_eq!(back, msg, "{json}");
        }
    }

    #[test]
    fn envelope_has_type_id_and_payload() {
        let msg = Message::Request {
            id: 5,
            payload: Request::Signal {
                signal: Signal::Int,
            },
        };
        let v: serde_json::Value = serde_json::to_value(&msg).expect("encode");
        assert_eq!(
            v,
            serde_json::json!({"type": "request", "id": 5, "payload": {"op": "signal", "signal": "INT"}})
        );
        let err = Message::Error {
            id: None,
            payload: ErrorPayload::new(ErrorCode::BadFrame, "x"),
        };
        let v = serde_json::to_value(&err).expect("encode");
        assert!(v.get("id").is_none(), "connection errors carry no id");
    }

    #[test]
    fn unknown_ops_decode_to_unknown_instead_of_failing() {
        let msg: Message = serde_json::from_str(
            r#"{"type":"request","id":1,"payload":{"op":"teleport","to":"mars"}}"#,
        )
        .expect("decodes");
        assert_eq!(
            msg,
            Message::Request {
                id: 1,
                payload: Request::Unknown
            }
        );
        let code: ErrorCode = serde_json::from_str(r#""brand_new""#).expect("decodes");
        assert_eq!(code, ErrorCode::Unknown);
    }

    #[test]
    fn hello_defaults_to_a_streaming_snapshot() {
        let msg: Message = serde_json::from_str(
            r#"{"type":"request","id":1,"payload":{"op":"hello","version":1,"mode":"read_only"}}"#,
        )
        .expect("decodes");
        let Message::Request {
            payload: Request::Hello(h),
            ..
        } = msg
        else {
            panic!("not a hello: {msg:?}");
        };
        assert!(h.stream);
        assert_eq!(h.start, Start::Snapshot);
        assert!(!h.lossless);
        assert_eq!(
            h.backpressure, None,
            "a version-1 hello asks for no backpressure"
        );
    }

    #[test]
    fn a_version_1_peer_reads_a_version_2_hello_and_notification() {
        // What a version-1 build decodes: the same structs without the new field; unknown
        // fields are ignored and unknown notifications decode to `Unknown`.
        #[derive(Deserialize)]
        struct HelloV1 {
            version: u32,
            lossless: bool,
        }
        let mut hello = Hello::new(Mode::ReadOnly);
        hello.lossless = true;
        hello.backpressure = Some(Backpressure { stall_ms: 10 });
        let old: HelloV1 =
            serde_json::from_value(serde_json::to_value(&hello).expect("encode")).expect("decode");
        assert_eq!((old.version, old.lossless), (crate::PROTOCOL_VERSION, true));
        let n: Notification =
            serde_json::from_str(r#"{"op":"demoted_in_v9","reason":"x"}"#).expect("decodes");
        assert_eq!(n, Notification::Unknown);
    }

    #[test]
    fn a_program_status_notification_round_trips_and_an_older_peer_skips_it() {
        use crate::program_status::{BlockedKind, ProgramState, ProgramStatus};
        let n = Notification::ProgramStatus {
            status: Some(ProgramStatus {
                state: ProgramState::Blocked,
                kind: Some(BlockedKind::Permission),
                app: Some("claude-code".into()),
                message: Some("approve Bash: ls".into()),
                title: None,
                progress: Some(40),
                id: None,
                at: "2026-12-06T22:00:00.000Z".into(),
            }),
        };
        let json = serde_json::to_string(&n).expect("encode");
        assert_eq!(
            serde_json::from_str::<Notification>(&json).expect("decode"),
            n
        );
        // A version-2 build knows no `program_status` op: it decodes to its `Unknown`.
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(tag = "op", rename_all = "snake_case")]
        enum NotificationV2 {
            Demoted {
                reason: String,
            },
            #[serde(other)]
            Unknown,
        }
        assert_eq!(
            serde_json::from_str::<NotificationV2>(&json).expect("decode"),
            NotificationV2::Unknown
        );
    }

    #[test]
    fn signals_parse_from_the_usual_spellings() {
        for (s, want) in [
            ("INT", Signal::Int),
            ("sigterm", Signal::Term),
            ("9", Signal::Kill),
            ("Hup", Signal::Hup),
            ("SIGSTOP", Signal::Stop),
            ("cont", Signal::Cont),
        ] {
            assert_eq!(s.parse::<Signal>().expect(s), want);
        }
        assert!("USR1".parse::<Signal>().is_err());
    }

    #[test]
    fn metadata_without_a_backend_is_a_holder_and_bridges_keep_theirs() {
        let mut v = serde_json::to_value(info()).expect("encode");
        assert_eq!(v["backend"], "holder");
        assert!(v.get("tmux").is_none(), "no tmux field for holders");
        v.as_object_mut().expect("object").remove("backend");
        let old: SessionInfo = serde_json::from_value(v).expect("decodes");
        assert_eq!(old.backend, Backend::Holder, "metadata from older holders");
        let v = serde_json::to_value(bridge_info()).expect("encode");
        assert_eq!(v["backend"], "tmux");
        assert_eq!(v["tmux"]["pane"], "%3");
    }

    #[test]
    fn summary_has_exactly_the_ls_fields() {
        let v = serde_json::to_value(bridge_info().summary()).expect("encode");
        let mut keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys.len(),
            9,
            "a bridge's summary has the same fields: {keys:?}"
        );
        let v = serde_json::to_value(info().summary()).expect("encode");
        let mut keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "clients",
                "command",
                "cwd",
                "exit_code",
                "id",
                "name",
                "pid",
                "started_at",
                "state"
            ]
        );
        assert_eq!(v["command"], "bash -c 'echo '\\''hi'\\''; exit 3'");
    }
}
