//! Finding sessions in the runtime directory: listing, resolving `<id|name>`, and cleaning up
//! after holders that died without removing their files.

use crate::client::{Client, ClientError};
use crate::dirs::RuntimeDir;
use paddock_proto::{Hello, Mode, Request, Response, SessionId, SessionInfo};
use std::path::Path;
use std::time::Duration;

/// How long a live holder has to answer `info` before its metadata file is used instead.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a session could not be found.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no session `{0}`; `paddock ls` lists the sessions")]
    NotFound(String),
    #[error("`{query}` matches several sessions ({}); use the full id", .ids.join(", "))]
    Ambiguous { query: String, ids: Vec<String> },
}

/// Every session in `dir`, freshest data first: a live holder is asked, a dead holder's files
/// are removed.
pub async fn list(dir: &RuntimeDir) -> Vec<SessionInfo> {
    let mut ids = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir.path()) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".json") {
            if let Ok(id) = SessionId::parse(stem) {
                ids.push(id);
            }
        } else if let Some(stem) = name.strip_suffix(".sock") {
            // A socket without metadata: a holder that is starting, or one that died early.
            if let Ok(id) = SessionId::parse(stem) {
                if !dir.meta_path(&id).exists() && !is_listening(&dir.socket_path(&id)) {
                    tracing::info!(%id, "removing the socket of a holder that died while starting");
                    dir.remove_session_files(&id);
                }
            }
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let dir = dir.clone();
        tasks.spawn(async move { probe(&dir, &id).await });
    }
    let mut out = Vec::new();
    while let Some(res) = tasks.join_next().await {
        if let Ok(Some(info)) = res {
            out.push(info);
        }
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    out
}

/// One session's freshest info, or `None` (after cleaning up) if its holder is gone.
async fn probe(dir: &RuntimeDir, id: &SessionId) -> Option<SessionInfo> {
    let meta = read_meta(&dir.meta_path(id));
    let socket = dir.socket_path(id);
    match tokio::time::timeout(QUERY_TIMEOUT, query(&socket)).await {
        Ok(Ok(info)) => return Some(info),
        // The socket file is there but nobody listens: its holder is gone.
        Ok(Err(ClientError::Connect { source, .. }))
            if source.kind() == std::io::ErrorKind::ConnectionRefused => {}
        // No socket: a holder that is closing (it removes the socket first) or one that died.
        Ok(Err(ClientError::Connect { .. })) => {
            if meta.as_ref().is_some_and(|m| pid_alive(m.holder_pid)) {
                return meta;
            }
        }
        // Alive but slow or confused: show what its file says.
        Ok(Err(_)) | Err(_) => return meta,
    }
    tracing::info!(%id, "removing the files of a holder that is no longer running");
    dir.remove_session_files(id);
    None
}

/// Asks a holder for its session's info.
pub async fn query(socket: &Path) -> Result<SessionInfo, ClientError> {
    let mut client = Client::connect(socket, Hello::control(Mode::ReadOnly)).await?;
    match client.request(Request::Info).await? {
        Response::Info { session } => Ok(*session),
        other => Err(ClientError::Protocol(format!(
            "expected info, got {other:?}"
        ))),
    }
}

fn read_meta(path: &Path) -> Option<SessionInfo> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(info) => Some(info),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable session metadata file");
            None
        }
    }
}

fn is_listening(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    if matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::Error::ESRCH)
    ) {
        return false;
    }
    // A zombie (dead, not yet reaped by its parent) still answers kill(0).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')),
        Err(_) => true,
    }
}

/// Finds one session by exact id, exact name, or unique id prefix.
pub fn resolve<'a>(
    sessions: &'a [SessionInfo],
    query: &str,
) -> Result<&'a SessionInfo, LookupError> {
    if let Some(s) = sessions.iter().find(|s| s.id.as_str() == query) {
        return Ok(s);
    }
    let by_name: Vec<_> = sessions.iter().filter(|s| s.name == query).collect();
    let candidates = if by_name.is_empty() {
        sessions
            .iter()
            .filter(|s| !query.is_empty() && s.id.as_str().starts_with(query))
            .collect()
    } else {
        by_name
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(LookupError::NotFound(query.to_owned())),
        many => Err(LookupError::Ambiguous {
            query: query.to_owned(),
            ids: many.iter().map(|s| s.id.to_string()).collect(),
        }),
    }
}
