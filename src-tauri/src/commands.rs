//! The app's IPC commands: thin adapters the UI calls through `@tauri-apps/api` (see
//! `ui/src/lib/backend/transport.ts`). Each forwards to a function of the core crates or of
//! this shell; none holds logic of its own. Errors cross as `{code, message}`, the same shape
//! as the endpoint's (CONVENTIONS.md).
use paddock_proto::shell::{ShellError, ThisHost};
use paddock_server::host::AppHost;
use tauri::State;

/// Who runs the supervisor this app shows, and where its endpoint serves.
#[tauri::command]
pub async fn this_host(host: State<'_, AppHost>) -> Result<ThisHost, ShellError> {
    Ok(host.this_host().await?)
}

/// A one-time admin pairing offer for this app's own window, so that in host mode the window
/// pairs with the host it runs (or joined) without the owner scanning anything: the window is
/// the owner's, on the owner's machine, and only the app's own pages can call this.
#[tauri::command]
pub async fn pair_this_window(
    host: State<'_, AppHost>,
) -> Result<paddock_proto::access::PairingOffer, ShellError> {
    Ok(host
        .local
        .pairing(paddock_proto::access::Role::Admin)
        .await?)
}
