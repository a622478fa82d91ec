//! The supervisor's local socket (`_supervisor.sock`, the owner's alone) from its clients'
//! side: one typed client for the `paddock` commands and the desktop app, so both ask the
//! supervisor the same way, embedded in the app or running as `paddock up`.
use paddock_host::client::{ClientError, Requester};
use paddock_proto::access::{PairingOffer, Role};
use paddock_proto::agent::{Decision, PermissionRequest};
use paddock_proto::supervisor::{SessionView, SupervisorStatus};
use paddock_proto::{ErrorPayload, Hello, Mode, Request, Response};
use std::path::{Path, PathBuf};

/// Why the supervisor could not answer.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "the supervisor is not running; start it with `paddock up` (or `paddock up --detach`)"
    )]
    NotRunning,
    /// Its socket is there but nobody answers (a supervisor killed a moment ago leaves it).
    #[error("the supervisor does not answer on {socket}: {source}; is it running? Restart it with `paddock up` (or restart the Paddock app)")]
    Unreachable {
        socket: PathBuf,
        source: ClientError,
    },
    #[error("{}", .0.message)]
    Refused(ErrorPayload),
    #[error("the supervisor answered {got} where {wanted} was expected; are this program and the supervisor the same version? `paddock up` replaces an older supervisor")]
    Unexpected { got: String, wanted: &'static str },
}

// the app's error codes (apptrim): begin
impl LocalError {
    /// A stable code for a UI to branch on (the app's commands send it with the message):
    /// `unreachable` (no supervisor answers: start one), `refused` (it said no, and why),
    /// `internal` (an answer this program does not understand).
    pub fn code(&self) -> &'static str {
        match self {
            LocalError::NotRunning | LocalError::Unreachable { .. } => "unreachable",
            LocalError::Refused(_) => "refused",
            LocalError::Unexpected { .. } => "internal",
        }
    }
}
// the app's error codes (apptrim): end

/// A client of the supervisor's local socket. Each call is one short connection, so a
/// supervisor restarted between two calls is simply found again.
#[derive(Debug, Clone)]
pub struct LocalClient {
    socket: PathBuf,
    client_name: String,
}

impl LocalClient {
    /// The supervisor of a runtime directory; `client_name` is what its log calls us.
    pub fn new(runtime_dir: &Path, client_name: &str) -> Self {
        Self {
            socket: crate::supervisor::socket_path(runtime_dir),
            client_name: client_name.to_owned(),
        }
    }

    /// The socket it talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A connection, after hello.
    pub async fn connect(&self) -> Result<Requester, LocalError> {
        if !self.socket.exists() {
            return Err(LocalError::NotRunning);
        }
        let mut hello = Hello::control(Mode::ReadOnly);
        hello.client_name = Some(self.client_name.clone());
        Requester::connect(&self.socket, hello)
            .await
            .map_err(|source| LocalError::Unreachable {
                socket: self.socket.clone(),
                source,
            })
    }

    /// Sends one request and returns its answer; a refusal is [`LocalError::Refused`].
    pub async fn ask(&self, req: Request) -> Result<Response, LocalError> {
        let mut c = self.connect().await?;
        match c.request(req).await {
            Ok(r) => Ok(r),
            Err(ClientError::Refused(p)) => Err(LocalError::Refused(p)),
            Err(source) => Err(LocalError::Unreachable {
                socket: self.socket.clone(),
                source,
            }),
        }
    }

    pub async fn sessions(&self) -> Result<Vec<SessionView>, LocalError> {
        match self.ask(Request::ListSessions).await? {
            Response::Sessions { sessions } => Ok(sessions),
            other => Err(unexpected(other, "a session list")),
        }
    }

    pub async fn permissions(&self) -> Result<Vec<PermissionRequest>, LocalError> {
        match self.ask(Request::Permissions { all: false }).await? {
            Response::Permissions { requests } => Ok(requests),
            other => Err(unexpected(other, "permission requests")),
        }
    }

    /// The supervisor's status (pid, health, the endpoint's URL and fingerprint).
    pub async fn status(&self) -> Result<SupervisorStatus, LocalError> {
        match self.ask(Request::Status).await? {
            Response::Status { status } => Ok(*status),
            other => Err(unexpected(other, "its status")),
        }
    }

    /// Answers a permission request; the first answer wins (a late one is refused, saying who
    /// answered first).
    pub async fn decide(
        &self,
        request: &str,
        decision: Decision,
        by: &str,
    ) -> Result<(), LocalError> {
        self.ask(Request::Decide {
            request: request.to_owned(),
            decision,
            by: by.to_owned(),
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
            other => Err(unexpected(other, "a pairing offer")),
        }
    }
}

/// As the app's window receives it (the `this_host` and `pair_this_window` commands).
impl From<LocalError> for paddock_proto::shell::ShellError {
    fn from(e: LocalError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

fn unexpected(got: Response, wanted: &'static str) -> LocalError {
    LocalError::Unexpected {
        got: format!("{got:?}"),
        wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_socket_is_not_running_and_says_how_to_start_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let c = LocalClient::new(dir.path(), "test");
        let e = c.sessions().await.expect_err("nothing runs there");
        assert!(matches!(e, LocalError::NotRunning), "{e:?}");
        assert!(e.to_string().contains("paddock up"), "{e}");
    }

    #[tokio::test]
    async fn a_socket_left_behind_is_unreachable_and_names_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let c = LocalClient::new(dir.path(), "test");
        // A supervisor killed a moment ago leaves its socket file; nobody listens on it.
        drop(std::os::unix::net::UnixListener::bind(c.socket()).expect("bind"));
        let e = c.status().await.expect_err("nobody listens");
        assert!(matches!(e, LocalError::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().contains("_supervisor.sock"), "{e}");
    }
}
