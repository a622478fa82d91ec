//! The app's IPC commands: thin adapters the UI calls through `@tauri-apps/api` (see
//! `ui/src/lib/backend/transport.ts`). Each forwards to a function of the core crates or of
//! this shell; none holds logic of its own. Errors cross as `{code, message}`, the same shape
//! as the endpoint's (CONVENTIONS.md).
use crate::shell::Shell;
use serde::Serialize;
use tauri::State;

/// An error as the UI receives it.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// A stable code the UI may branch on.
    pub code: &'static str,
    /// A sentence for a person: what happened, what to do next.
    pub message: String,
}

impl From<crate::local::LocalError> for CommandError {
    fn from(e: crate::local::LocalError) -> Self {
        let code = match e {
            crate::local::LocalError::Unreachable { .. } => "unreachable",
            crate::local::LocalError::Refused(_) => "refused",
            crate::local::LocalError::Unexpected(..) => "internal",
        };
        Self {
            code,
            message: e.to_string(),
        }
    }
}

/// What the shell can do for the UI.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Capabilities {
    /// REST and WSS through the app's pinned Rust client (`request`, `stream_*`). False until
    /// the pinned client (`paddock-client`) is wired in: the UI then keeps fetch and WebSocket.
    pub pinned_transport: bool,
}

/// What the shell can do; the UI asks this once at start and picks its transport from it.
#[tauri::command]
pub fn capabilities() -> Capabilities {
    Capabilities {
        pinned_transport: false,
    }
}

/// The host this app shows in host mode.
#[derive(Debug, Serialize)]
pub struct ThisHost {
    /// `embedded` (this app runs the supervisor) or `joined` (another process does).
    pub mode: &'static str,
    /// A sentence saying who runs the supervisor.
    pub description: String,
    /// The supervisor's pid.
    pub pid: u32,
    /// The endpoint's URL, when it serves.
    pub url: Option<String>,
    /// SHA-256 of the endpoint's certificate, which the app's client pins.
    pub fingerprint: Option<String>,
}

/// Who runs the supervisor this app shows, and where its endpoint serves.
#[tauri::command]
pub async fn this_host(shell: State<'_, Shell>) -> Result<ThisHost, CommandError> {
    let status = shell.local.status().await?;
    Ok(ThisHost {
        mode: if shell.is_embedded() {
            "embedded"
        } else {
            "joined"
        },
        description: shell.describe(),
        pid: status.pid,
        url: status.url,
        fingerprint: status.fingerprint,
    })
}
