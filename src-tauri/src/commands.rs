//! The app's IPC commands: thin adapters the UI calls through `@tauri-apps/api` (see
//! `ui/src/lib/backend/transport.ts`). Each forwards to a function of the core crates or of
//! this shell; none holds logic of its own. Errors cross as `{code, message}`, the same shape
//! as the endpoint's (CONVENTIONS.md).
use crate::shell::Shell;
use crate::transport::IpcError;
use paddock_core::local_client::LocalError;
use serde::Serialize;
use tauri::State;

impl From<LocalError> for IpcError {
    fn from(e: LocalError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
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
pub async fn this_host(shell: State<'_, Shell>) -> Result<ThisHost, IpcError> {
    let status = shell.local.status().await?;
    Ok(ThisHost {
        mode: shell.kind(),
        description: shell.describe(),
        pid: status.pid,
        url: status.url,
        fingerprint: status.fingerprint,
    })
}

/// A one-time admin pairing offer for this app's own window, so that in host mode the window
/// pairs with the host it runs (or joined) without the owner scanning anything: the window is
/// the owner's, on the owner's machine, and only the app's own pages can call this.
#[tauri::command]
pub async fn pair_this_window(
    shell: State<'_, Shell>,
) -> Result<paddock_proto::access::PairingOffer, IpcError> {
    Ok(shell
        .local
        .pairing(paddock_proto::access::Role::Admin)
        .await?)
}
