//! Asking the supervisor, when it runs.

use paddock_host::client::{ClientError, Requester};
use paddock_proto::supervisor::{SessionView, SupervisorStatus};
use paddock_proto::{Hello, Mode, Request, Response};

async fn connect() -> anyhow::Result<Option<Requester>> {
    let dir = paddock_host::runtime_dir()?;
    let socket = paddock_core::supervisor::socket_path(dir.path());
    if !socket.exists() {
        return Ok(None);
    }
    let mut hello = Hello::control(Mode::ReadOnly);
    hello.client_name = Some("cli".into());
    match Requester::connect(&socket, hello).await {
        Ok(c) => Ok(Some(c)),
        Err(ClientError::Connect { .. } | ClientError::Io(_) | ClientError::Closed) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The supervisor's sessions, or `None` when it does not run (or does not answer: a
/// supervisor that was just killed leaves its socket behind).
pub async fn sessions() -> anyhow::Result<Option<Vec<SessionView>>> {
    let Some(mut c) = connect().await? else {
        return Ok(None);
    };
    match c.request(Request::ListSessions).await {
        Ok(Response::Sessions { sessions }) => Ok(Some(sessions)),
        Ok(other) => anyhow::bail!("the supervisor answered {other:?} to a session list"),
        Err(e) => {
            tracing::debug!(error = %e, "the supervisor did not answer");
            Ok(None)
        }
    }
}

/// The supervisor's status, or `None` when it does not run.
pub async fn status() -> anyhow::Result<Option<SupervisorStatus>> {
    let Some(mut c) = connect().await? else {
        return Ok(None);
    };
    match c.request(Request::Status).await? {
        Response::Status { status } => Ok(Some(*status)),
        other => anyhow::bail!("the supervisor answered {other:?} to status"),
    }
}
