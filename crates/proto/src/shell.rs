//! What the app's shell (Tauri, desktop and mobile) tells its window over IPC, beside the REST
//! and WebSocket types it relays: what it can do, the host it runs in host mode, and the
//! messages of a relayed socket's channel. Exported to TypeScript with the other wire types.
use serde::{Deserialize, Serialize};

/// What the shell can do for the UI (the `capabilities` command); the UI asks once at start
/// and picks its transport from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ShellCapabilities {
    /// REST and WSS go through the shell's pinned client (`request`, `stream_*`).
    pub pinned_transport: bool,
    /// Whether this webview draws xterm.js' WebGL renderer reliably. Not WebKitGTK (Linux):
    /// there the pane can stay blank (black) while the bytes arrive, so the terminal uses
    /// the DOM renderer there.
    pub webgl_terminal: bool,
}

/// Why a shell command failed, as the window receives it from any command: the same
/// `{code, message}` shape as the endpoint's errors (CONVENTIONS.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ShellError {
    /// A stable code the UI may branch on (the failing crate's own `code()`: `unreachable`,
    /// `certificate_changed`, ...).
    pub code: String,
    /// A sentence for a person: what happened, what to do next.
    pub message: String,
}

/// Who runs the supervisor the desktop app shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HostModeKind {
    /// The app runs it (and the endpoint).
    Embedded,
    /// Another process runs it (`paddock up`, the service); the app is its client.
    Joined,
}

/// The host the desktop app shows in host mode (the `this_host` command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ThisHost {
    pub mode: HostModeKind,
    /// A sentence saying who runs the supervisor.
    pub description: String,
    /// The supervisor's pid.
    pub pid: u32,
    /// The endpoint's URL, when it serves.
    pub url: Option<String>,
    /// SHA-256 of the endpoint's certificate, which the app's client pins.
    pub fingerprint: Option<String>,
}

/// A host's answer to a REST call the shell relayed (the `request` command), any status, its
/// body as text: what the UI's browser transport makes of a `fetch` too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct RelayReply {
    pub status: u16,
    pub text: String,
}

/// What the UI gets on a relayed socket's channel besides binary frames (those come as raw
/// bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamMessage {
    /// The socket opened.
    Open,
    /// A text frame.
    Text { data: String },
    /// The socket closed (by the host, the network, or the shell), with the reason.
    Close { code: u16, reason: String },
}
