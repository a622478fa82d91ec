//! What a client asks of a holder: the requests, the opening `hello` and its terms.

use super::{BgAction, Signal, Size};
use crate::ids::SessionId;
use serde::{Deserialize, Serialize};

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
    /// The client passed a descriptor with this hello (`SCM_RIGHTS`: its standard output, a
    /// pipe) for the holder to write the raw output into itself, instead of sending output
    /// frames that the client would copy on (`paddock logs --follow --raw | …`). Only with
    /// `backpressure`; the holder says in its answer (`sink`) whether it took it. A holder
    /// that does not know this field ignores it (and the descriptor) and answers without
    /// `sink`: the client then reads output frames as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sink: bool,
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
            sink: false,
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
