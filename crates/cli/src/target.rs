//! Finding the session a command names and connecting to its holder.

use crate::errors::CliError;
use anyhow::Context;
use paddock_host::client::Client;
use paddock_host::{sessions, RuntimeDir};
use paddock_proto::{Hello, SessionInfo, SessionState};

/// A session named on the command line.
pub struct Target {
    pub dir: RuntimeDir,
    pub info: SessionInfo,
}

/// Resolves `query` (id, name or unique id prefix) among the live sessions.
pub async fn find(query: &str) -> anyhow::Result<Target> {
    let dir = paddock_host::runtime_dir()?;
    let all = sessions::list(&dir).await;
    let info = sessions::resolve(&all, query)?.clone();
    Ok(Target { dir, info })
}

impl Target {
    pub async fn connect(&self, hello: Hello) -> anyhow::Result<Client> {
        let path = self.dir.socket_path(&self.info.id);
        Client::connect(&path, hello)
            .await
            .with_context(|| format!("cannot reach session {}", self.info.id))
    }

    /// Fails with exit code 4 when the agent has exited.
    pub fn ensure_running(&self) -> Result<(), CliError> {
        if self.info.state == SessionState::Running {
            return Ok(());
        }
        Err(CliError::Exited {
            id: self.info.id.to_string(),
            code: describe_exit(&self.info),
        })
    }
}

/// ` with code 3` / ` (killed by KILL)` for messages.
pub fn describe_exit(info: &SessionInfo) -> String {
    match (&info.exit_signal, info.exit_code) {
        (Some(sig), _) => format!(" (killed by SIG{sig})"),
        (None, Some(code)) => format!(" with code {code}"),
        (None, None) => String::new(),
    }
}
