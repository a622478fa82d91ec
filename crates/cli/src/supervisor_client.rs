//! Asking the supervisor, when it runs.

use paddock_core::local_client::{LocalClient, LocalError};
use paddock_host::client::{ClientError, Requester};
use paddock_proto::supervisor::{SessionView, SupervisorStatus};
use paddock_proto::{Request, Response};

fn client() -> anyhow::Result<LocalClient> {
    let dir = paddock_host::runtime_dir()?;
    Ok(LocalClient::new(dir.path(), "cli"))
}

/// A connection, or `None` when the supervisor does not run or does not answer (a
/// supervisor that was just killed leaves its socket behind).
async fn connect() -> anyhow::Result<Option<Requester>> {
    match client()?.connect().await {
        Ok(c) => Ok(Some(c)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The supervisor does not run, or its socket was left behind by one that died.
fn gone(e: &LocalError) -> bool {
    matches!(
        e,
        LocalError::NotRunning
            | LocalError::Unreachable {
                source: ClientError::Connect { .. } | ClientError::Io(_) | ClientError::Closed,
                ..
            }
    )
}

/// The supervisor's sessions, or `None` when it does not run (or does not answer).
pub async fn sessions() -> anyhow::Result<Option<Vec<SessionView>>> {
    match client()?.sessions().await {
        Ok(sessions) => Ok(Some(sessions)),
        Err(e @ LocalError::Unexpected { .. }) => Err(e.into()),
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
    match client()?.status().await {
        Ok(status) => Ok(Some(status)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Sends one request to the supervisor, which must be running. A refusal is a
/// [`LocalError::Refused`] carrying the supervisor's own words.
pub async fn request(req: Request) -> anyhow::Result<Response> {
    Ok(client()?.ask(req).await?)
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
    request(req).await
}
