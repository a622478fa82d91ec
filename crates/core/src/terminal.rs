//! A session's terminal through its holder: its terminal stream, input, resize, signals,
//! restart and removal. The endpoint's REST and WebSocket handlers call these; the CLI talks
//! to holders the same way through `paddock_host::client`.

use crate::supervisor::Handle;
use paddock_host::client::{Client, ClientError};
use paddock_proto::supervisor::Backend;
use paddock_proto::{ErrorPayload, Hello, Mode, Request, Response, SessionId, Signal};

/// Why an operation on a session failed.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    #[error("no session `{0}`; list them with GET /api/v1/sessions or `paddock ls`")]
    NoSuchSession(SessionId),
    #[error("session `{0}` runs in a terminal Paddock cannot reach ({1}): only its metrics and signals work")]
    NoTerminal(SessionId, Backend),
    #[error("{0}")]
    Refused(ErrorPayload),
    #[error("cannot reach the session's holder: {0}; it may have just exited")]
    Holder(ClientError),
    #[error("cannot signal process {pid}: {source}")]
    Os { pid: u32, source: nix::Error },
    #[error(transparent)]
    Background(#[from] crate::agents::claude_bg::ops::BgError),
}

impl From<ClientError> for TerminalError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Refused(p) => TerminalError::Refused(p),
            e => TerminalError::Holder(e),
        }
    }
}

impl Handle {
    fn holder_socket(&self, id: &SessionId) -> Result<std::path::PathBuf, TerminalError> {
        let view = self
            .registry()
            .get(id)
            .ok_or_else(|| TerminalError::NoSuchSession(id.clone()))?;
        if view.backend == Backend::External {
            return Err(TerminalError::NoTerminal(id.clone(), view.backend));
        }
        Ok(self.runtime_dir().socket_path(id))
    }

    /// Opens a terminal stream (or a control connection) to a session's holder.
    pub async fn open_terminal(
        &self,
        id: &SessionId,
        hello: Hello,
    ) -> Result<Client, TerminalError> {
        let socket = self.holder_socket(id)?;
        // A Claude Code background agent's terminal is opened on first use (`claude attach`).
        if self
            .registry()
            .get(id)
            .is_some_and(|v| v.backend == Backend::ClaudeBg)
        {
            self.claude_bg(id, paddock_proto::BgAction::Open).await?;
        }
        Ok(Client::connect(&socket, hello).await?)
    }

    /// Sends one request (resize, signal, restart, remove, info) on a short control connection.
    pub async fn session_request(
        &self,
        id: &SessionId,
        req: Request,
    ) -> Result<Response, TerminalError> {
        let mut c = self
            .open_terminal(id, Hello::control(Mode::ReadWrite))
            .await?;
        Ok(c.request(req).await?)
    }

    /// Sends a signal; to an external session's process directly (same user), else through
    /// its holder (the agent's process group and the terminal's foreground job).
    pub async fn signal_session(
        &self,
        id: &SessionId,
        signal: Signal,
    ) -> Result<(), TerminalError> {
        let view = self
            .registry()
            .get(id)
            .ok_or_else(|| TerminalError::NoSuchSession(id.clone()))?;
        // Claude Code's background agents end through Claude's own command.
        if crate::agents::claude_bg::ops::job_id(id).is_some()
            && matches!(signal, Signal::Term | Signal::Kill)
        {
            self.claude_bg(id, paddock_proto::BgAction::Stop).await?;
            return Ok(());
        }
        if matches!(view.backend, Backend::External | Backend::ClaudeBg) {
            let sig = paddock_host::to_nix(signal);
            let pid = i32::try_from(view.pid).unwrap_or(0);
            if pid <= 0 {
                return Err(TerminalError::NoSuchSession(id.clone()));
            }
            return nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).map_err(
                |source| TerminalError::Os {
                    pid: view.pid,
                    source,
                },
            );
        }
        self.session_request(id, Request::Signal { signal }).await?;
        Ok(())
    }

    /// Types `data` into a session.
    pub async fn send_input(&self, id: &SessionId, data: &[u8]) -> Result<(), TerminalError> {
        let mut c = self
            .open_terminal(id, Hello::control(Mode::ReadWrite))
            .await?;
        c.send_input(data).await?;
        // An info round trip: the holder has taken the input when it answers.
        c.request(Request::Info).await?;
        Ok(())
    }
}
