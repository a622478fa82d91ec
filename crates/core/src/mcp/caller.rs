//! Who is calling an MCP tool, and what that caller may do. A local caller is found from the
//! peer credentials of the MCP socket: the session whose process tree holds the caller's
//! process (its `PADDOCK_SESSION_ID` must agree). The owner grants the orchestrator role to a
//! session when starting it (`paddock run --orchestrator`), recorded as
//! `<runtime>/<id>.orchestrator`.

use crate::access::Principal;
use crate::supervisor::Handle;
use paddock_host::dirs::RuntimeDir;
use paddock_proto::access::Permission;
use paddock_proto::SessionId;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Acts on its own session only: read its own state, report, notify or ask its owner.
    Agent,
    /// Granted by the owner: lists, reads, messages, spawns, stops and waits on other
    /// sessions and answers their permission requests (never its own session's).
    Orchestrator,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Agent => "agent",
            Profile::Orchestrator => "orchestrator",
        }
    }
}

/// One MCP connection's caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub profile: Profile,
    /// The caller's own session, when it runs in one.
    pub session: Option<SessionId>,
    /// Who it is in the audit log and in permission answers, e.g. `mcp:orchestrator:ab12`.
    pub actor: String,
    /// A paired device over HTTP: its role bounds every tool (`None` for local callers,
    /// which are the owner's own agents).
    pub device: Option<Principal>,
}

impl Caller {
    fn new(profile: Profile, session: Option<SessionId>) -> Self {
        let actor = match &session {
            Some(id) => format!("mcp:{}:{id}", profile.name()),
            None => format!("mcp:{}", profile.name()),
        };
        Self {
            profile,
            session,
            actor,
            device: None,
        }
    }

    /// A paired device calling `/mcp` on the endpoint: an orchestrator within its role.
    pub fn device(principal: Principal) -> Self {
        Self {
            profile: Profile::Orchestrator,
            session: None,
            actor: format!("mcp:{}", principal.actor()),
            device: Some(principal),
        }
    }

    /// A caller whose credentials are not known yet (an HTTP connection before its first
    /// authenticated call): allowed nothing.
    pub fn nobody() -> Self {
        Self {
            profile: Profile::Agent,
            session: None,
            actor: "mcp:unauthenticated".into(),
            device: None,
        }
    }

    /// Whether the caller's role allows `p` (local callers: always).
    pub fn need(&self, p: Permission) -> Result<(), String> {
        match &self.device {
            Some(d) if !d.allows(p) => Err(format!(
                "refused: the role {} may not do this (it needs {}); ask the host's owner for a device with a higher role",
                d.role,
                p.as_str()
            )),
            _ => Ok(()),
        }
    }
}

/// Records the owner's grant of the orchestrator role to session `id` (before it starts).
pub fn grant_orchestrator(dir: &RuntimeDir, id: &SessionId) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(dir.orchestrator_path(id))
        .map(drop)
}

/// Whether the owner made session `id` an orchestrator.
pub fn is_orchestrator(dir: &RuntimeDir, id: &SessionId) -> bool {
    dir.orchestrator_path(id).exists()
}

/// Why a local caller was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error("PADDOCK_SESSION_ID says session `{claimed}`, but this process is not inside that session's process tree; unset it, or run `paddock mcp` from the session's agent")]
    WrongSession { claimed: String },
}

/// `pid` and its ancestors (up to 16), nearest first.
fn lineage(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    while out.len() < 16 {
        let Some(&last) = out.last() else { break };
        match crate::status_files::parent_of(last) {
            Some(p) if p > 1 => out.push(p),
            _ => break,
        }
    }
    out
}

/// Finds the caller behind a local MCP connection from the peer's pid and the session its
/// relay claims. A process in no session is an agent without a session (it may notify and
/// ask its owner, nothing else).
pub async fn identify_local(
    handle: &Handle,
    peer_pid: Option<u32>,
    claimed: Option<&str>,
) -> Result<Caller, IdentifyError> {
    // An agent may start `paddock mcp` before the supervisor has adopted its session.
    if let Some(id) = claimed.and_then(|c| SessionId::parse(c).ok()) {
        if handle.registry().get(&id).is_none() && handle.runtime_dir().socket_path(&id).exists() {
            let _ = handle.adopt(&id).await;
        }
    }
    let found = peer_pid.and_then(|pid| handle.registry().by_pid(&lineage(pid)));
    if let Some(claimed) = claimed.filter(|c| !c.is_empty()) {
        if found.as_ref().map(SessionId::as_str) != Some(claimed) {
            return Err(IdentifyError::WrongSession {
                claimed: claimed.to_owned(),
            });
        }
    }
    Ok(match found {
        Some(id) if is_orchestrator(handle.runtime_dir(), &id) => {
            Caller::new(Profile::Orchestrator, Some(id))
        }
        Some(id) => Caller::new(Profile::Agent, Some(id)),
        None => Caller::new(Profile::Agent, None),
    })
}
