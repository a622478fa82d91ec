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

/// Tells the supervisor, when it runs, about a session this command just started, and waits
/// until it lists it: the next `paddock ls`, REST list or UI then shows it. A supervisor that
/// cannot adopt it in time is reported on stderr; the session runs either way.
pub async fn adopt(id: &paddock_proto::SessionId) {
    let mut c = match connect().await {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            tracing::debug!(error = %e, "not telling the supervisor about the new session");
            return;
        }
    };
    let asked = c.request(Request::Adopt {
        session: id.clone(),
    });
    match tokio::time::timeout(ADOPT_ANSWER, asked).await {
        Ok(Ok(_)) => {}
        // A supervisor older than `adopt` finds the session at its next scan.
        Ok(Err(ClientError::Refused(e))) if e.code == paddock_proto::ErrorCode::UnknownRequest => {}
        Ok(Err(ClientError::Refused(e))) => eprintln!("paddock: {}", e.message),
        Ok(Err(e)) => tracing::debug!(error = %e, "the supervisor did not answer the adoption"),
        Err(_) => eprintln!(
            "paddock: the supervisor did not confirm session {id} within {} s; it runs, and `paddock status` says whether the supervisor is healthy",
            ADOPT_ANSWER.as_secs()
        ),
    }
}

/// How long `adopt` waits for the supervisor's answer (it gives up itself after 5 s).
const ADOPT_ANSWER: std::time::Duration = std::time::Duration::from_secs(7);

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

/// Why a request that only the supervisor can serve failed.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(
        "the supervisor is not running; start it with `paddock up` (or `paddock up --detach`)"
    )]
    NotRunning,
    #[error("{0}")]
    Refused(paddock_proto::ErrorPayload),
}

/// Sends one request to the supervisor, which must be running.
pub async fn request(req: Request) -> anyhow::Result<Response> {
    let Some(mut c) = connect().await? else {
        return Err(SupervisorError::NotRunning.into());
    };
    match c.request(req).await {
        Ok(r) => Ok(r),
        Err(ClientError::Refused(p)) => Err(SupervisorError::Refused(p).into()),
        Err(e) => Err(e.into()),
    }
}

/// Who is asking, for the supervisor's log: `cli` and the user name.
pub fn actor() -> String {
    match std::env::var("USER") {
        Ok(u) if !u.is_empty() => format!("cli ({u})"),
        _ => "cli".to_owned(),
    }
}
/// Sends an owner request (pairing, devices) to the running supervisor.
pub async fn owner_request(req: Request) -> anyhow::Result<Response> {
    let Some(mut c) = connect().await? else {
        anyhow::bail!(
            "the supervisor is not running; start it with `paddock up` (or `paddock up --detach`)"
        );
    };
    match c.request(req).await {
        Ok(r) => Ok(r),
        Err(ClientError::Refused(e)) => anyhow::bail!("{}", e.message),
        Err(e) => Err(e.into()),
    }
}
