//! The app's questions to the supervisor over its local socket (`_supervisor.sock`, the
//! owner's alone): the sessions and permission requests the tray shows, a tray Approve / Deny
//! (through the supervisor's one permission registry, `Request::Decide`), and pairing offers.
//! Embedded or already running, the supervisor is asked the same way, so the tray has one code
//! path whoever runs it.
use paddock_host::client::{ClientError, Requester};
use paddock_proto::access::{PairingOffer, Role};
use paddock_proto::agent::{Decision, PermissionRequest};
use paddock_proto::supervisor::{SessionView, SupervisorStatus};
use paddock_proto::{Hello, Mode, Request, Response};
use std::path::{Path, PathBuf};

/// Why the supervisor could not answer.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("the supervisor does not answer on {socket}: {source}; is it running? Restart the Paddock app or run `paddock up`")]
    Unreachable {
        socket: PathBuf,
        source: ClientError,
    },
    #[error("the supervisor refused: {0}")]
    Refused(String),
    #[error("the supervisor answered {0} where {1} was expected; are the app and `paddock` the same version?")]
    Unexpected(String, &'static str),
}

/// The supervisor's local socket in a runtime directory.
#[derive(Debug, Clone)]
pub struct Local {
    socket: PathBuf,
}

impl Local {
    pub fn new(runtime_dir: &Path) -> Self {
        Self {
            socket: paddock_core::supervisor::socket_path(runtime_dir),
        }
    }

    async fn ask(&self, req: Request) -> Result<Response, LocalError> {
        let unreachable = |source| LocalError::Unreachable {
            socket: self.socket.clone(),
            source,
        };
        let mut hello = Hello::control(Mode::ReadOnly);
        hello.client_name = Some("app".into());
        let mut c = Requester::connect(&self.socket, hello)
            .await
            .map_err(unreachable)?;
        match c.request(req).await {
            Ok(r) => Ok(r),
            Err(ClientError::Refused(p)) => Err(LocalError::Refused(p.message)),
            Err(e) => Err(unreachable(e)),
        }
    }

    pub async fn sessions(&self) -> Result<Vec<SessionView>, LocalError> {
        match self.ask(Request::ListSessions).await? {
            Response::Sessions { sessions } => Ok(sessions),
            other => Err(LocalError::Unexpected(format!("{other:?}"), "sessions")),
        }
    }

    pub async fn permissions(&self) -> Result<Vec<PermissionRequest>, LocalError> {
        match self.ask(Request::Permissions { all: false }).await? {
            Response::Permissions { requests } => Ok(requests),
            other => Err(LocalError::Unexpected(format!("{other:?}"), "permissions")),
        }
    }

    /// The supervisor's status (pid, health, the endpoint's URL and fingerprint).
    pub async fn status(&self) -> Result<SupervisorStatus, LocalError> {
        match self.ask(Request::Status).await? {
            Response::Status { status } => Ok(*status),
            other => Err(LocalError::Unexpected(format!("{other:?}"), "status")),
        }
    }

    /// Answers a permission request; the first answer wins (a late one is refused, saying who
    /// answered first).
    pub async fn decide(&self, request: &str, decision: Decision) -> Result<(), LocalError> {
        self.ask(Request::Decide {
            request: request.to_owned(),
            decision,
            by: "the Paddock app (tray)".to_owned(),
        })
        .await
        .map(drop)
    }

    /// Holds the host's notifications (every channel), or lets them go again.
    pub async fn pause_notifications(&self, paused: bool) -> Result<(), LocalError> {
        self.ask(Request::NotifyPause { paused }).await.map(drop)
    }

    /// A one-time pairing offer for a new device.
    pub async fn pairing(&self, role: Role) -> Result<PairingOffer, LocalError> {
        match self
            .ask(Request::CreatePairing {
                role,
                ttl_secs: None,
            })
            .await?
        {
            Response::Pairing { offer } => Ok(*offer),
            other => Err(LocalError::Unexpected(
                format!("{other:?}"),
                "a pairing offer",
            )),
        }
    }
}
