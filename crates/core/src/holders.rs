//! Holder discovery: adopts every live holder in the runtime directory, at start and as new
//! ones appear, and keeps one quiet control connection to each, so exits, restarts and
//! resizes reach the registry the moment they happen (and a holder never has to be polled).

use crate::registry::Registry;
use paddock_host::client::{Client, Event as ClientEvent};
use paddock_host::RuntimeDir;
use paddock_proto::supervisor::{Backend, SessionView};
use paddock_proto::{Hello, Mode, Notification, Request, Response, SessionId, SessionInfo};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often the runtime directory is scanned for new holders.
pub const SCAN_INTERVAL: Duration = Duration::from_secs(1);

/// Watches `dir` until `shutdown` turns true.
pub async fn watch(dir: RuntimeDir, registry: Registry, mut shutdown: watch::Receiver<bool>) {
    let tracked: Arc<Mutex<HashSet<SessionId>>> = Arc::default();
    loop {
        for id in socket_ids(&dir) {
            let new = tracked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone());
            if new {
                let (dir, registry, tracked) = (dir.clone(), registry.clone(), tracked.clone());
                tokio::spawn(async move {
                    track(&dir, &registry, &id).await;
                    tracked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                });
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SCAN_INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Session ids that have a socket in `dir`.
fn socket_ids(dir: &RuntimeDir) -> Vec<SessionId> {
    let Ok(entries) = std::fs::read_dir(dir.path()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let stem = name.to_str()?.strip_suffix(".sock")?.to_owned();
            SessionId::parse(&stem).ok()
        })
        .collect()
}

/// The agent a holder's command runs, if it is one.
pub fn agent_of(info: &SessionInfo) -> Option<String> {
    let cmd: Vec<String> = std::iter::once(info.command.clone())
        .chain(info.args.iter().cloned())
        .collect();
    paddock_monitor::classify(&cmd, None).map(|k| k.as_str().to_owned())
}

fn view(info: &SessionInfo) -> SessionView {
    SessionView::from_holder(info, agent_of(info))
}

/// Follows one holder until it goes away.
async fn track(dir: &RuntimeDir, registry: &Registry, id: &SessionId) {
    let mut hello = Hello::control(Mode::ReadOnly);
    hello.client_name = Some("supervisor".into());
    let mut client = match Client::connect(&dir.socket_path(id), hello).await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%id, error = %e, "not adopting a holder that does not answer");
            return;
        }
    };
    tracing::info!(%id, pid = client.welcome.session.pid, "adopted a holder");
    registry.upsert(view(&client.welcome.session));
    loop {
        match client.next_event().await {
            Ok(Some(ClientEvent::Notification(n))) => match n {
                Notification::Closing { .. } => break,
                Notification::Exited { .. }
                | Notification::Restarted { .. }
                | Notification::Resized { .. } => match client.request(Request::Info).await {
                    Ok(Response::Info { session }) => registry.upsert(view(&session)),
                    _ => break,
                },
                _ => {}
            },
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    tracing::info!(%id, "holder gone");
    registry.remove(id);
}

/// The backend these sessions have.
pub const BACKEND: Backend = Backend::Holder;
