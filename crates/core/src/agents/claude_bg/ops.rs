//! What Paddock does to a background agent, once for every caller (the local API behind the
//! CLI, REST, MCP): open its terminal (`claude attach <id>` in a holder whose session is the
//! agent's, `cbg-<id>`), stop it, respawn it, start one.

use super::{commands, follow};
use crate::supervisor::Handle;
use paddock_agents::claude::ClaudePaths;
use paddock_host::HolderSpec;
use paddock_proto::supervisor::{Backend, SessionView};
use paddock_proto::{BgAction, SessionId};
use std::path::PathBuf;
use std::time::Duration;

/// How long an operation waits for the registry to show its effect.
const SETTLE: Duration = Duration::from_secs(10);

/// Rows `claude attach` has drawn once it shows the agent (its banner and prompt).
const DRAWN_ROWS: usize = 3;

/// Why an operation on a background agent failed.
#[derive(Debug, thiserror::Error)]
pub enum BgError {
    #[error("{0} is not one of Claude Code's background agents (their ids start with `cbg-`); `paddock ls` lists them")]
    NotBackground(SessionId),
    #[error("no background agent {0}; `paddock ls` lists them, `claude agents --all` too")]
    Unknown(SessionId),
    #[error("background agent {0} is not running; `paddock restart {0}` respawns it")]
    NotRunning(SessionId),
    #[error(transparent)]
    Command(#[from] commands::CommandError),
    #[error("cannot open the terminal of {id}: {reason}")]
    Open { id: SessionId, reason: String },
    #[error("`claude {action}` returned, but {id} did not show the change within {} s; `paddock ls` shows it once it does", SETTLE.as_secs())]
    Slow { id: SessionId, action: String },
    #[error("the working directory {0} is not an absolute path to a folder")]
    Cwd(PathBuf),
    #[error("the prompt is empty; say what the background agent should do")]
    NoPrompt,
}

impl BgError {
    /// Whether the caller asked for something wrong (rather than something failing).
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            BgError::NotBackground(_)
                | BgError::Unknown(_)
                | BgError::NotRunning(_)
                | BgError::Cwd(_)
                | BgError::NoPrompt
        )
    }
}

/// The short id of the agent behind session `id`.
pub fn job_id(id: &SessionId) -> Option<&str> {
    id.as_str()
        .strip_prefix(super::PREFIX)
        .filter(|j| super::files::valid_id(j))
}

impl Handle {
    /// Reads the files and lists every background agent now, not at the next look.
    async fn claude_bg_sync(&self) {
        let Some(paths) = ClaudePaths::from_env() else {
            return;
        };
        let snap = tokio::task::spawn_blocking(move || follow::Scanner::new(paths.root).scan())
            .await
            .unwrap_or_default();
        // A fresh `last`: states are told again (the same state told twice changes nothing).
        follow::apply(self, &snap, &mut Default::default());
    }

    /// Waits until the registry's view of `id` passes `done` (re-reading the files).
    async fn claude_bg_wait(
        &self,
        id: &SessionId,
        action: &str,
        done: impl Fn(&SessionView) -> bool,
    ) -> Result<SessionView, BgError> {
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            self.claude_bg_sync().await;
            if let Some(v) = self.registry().get(id).filter(|v| done(v)) {
                return Ok(v);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(BgError::Slow {
                    id: id.clone(),
                    action: action.to_owned(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts a background agent: `claude --bg PROMPT` in `cwd`; returns it once listed.
    pub async fn start_background(
        &self,
        prompt: &str,
        cwd: &std::path::Path,
    ) -> Result<SessionView, BgError> {
        if prompt.trim().is_empty() {
            return Err(BgError::NoPrompt);
        }
        if !cwd.is_absolute() || !cwd.is_dir() {
            return Err(BgError::Cwd(cwd.to_owned()));
        }
        let job = commands::start(prompt, cwd).await?;
        let id = follow::session_id(&job).ok_or_else(|| BgError::Open {
            id: SessionId::from_random(0),
            reason: format!("`claude --bg` named it {job:?}, which is not an id Paddock takes"),
        })?;
        self.claude_bg_wait(&id, "--bg", SessionView::is_running)
            .await
    }

    /// Stops, respawns or opens the background agent `id`; returns it as listed afterwards.
    pub async fn claude_bg(
        &self,
        id: &SessionId,
        action: BgAction,
    ) -> Result<SessionView, BgError> {
        let job = job_id(id)
            .ok_or_else(|| BgError::NotBackground(id.clone()))?
            .to_owned();
        if self.registry().get(id).is_none() {
            self.claude_bg_sync().await;
        }
        let view = self
            .registry()
            .get(id)
            .ok_or_else(|| BgError::Unknown(id.clone()))?;
        match action {
            BgAction::Stop => {
                commands::stop(&job).await?;
                self.claude_bg_wait(id, "stop", |v| !v.is_running()).await
            }
            BgAction::Respawn => {
                commands::respawn(&job).await?;
                self.claude_bg_wait(id, "respawn", |v| v.is_running() && v.pid > 0)
                    .await
            }
            BgAction::Open => self.open_background(id, &job, view).await,
        }
    }

    /// Opens the agent's terminal: a holder running `claude attach <id>`, whose session is
    /// the agent's. Nothing to do when it is open already.
    async fn open_background(
        &self,
        id: &SessionId,
        job: &str,
        view: SessionView,
    ) -> Result<SessionView, BgError> {
        let socket = self.runtime_dir().socket_path(id);
        if view.backend == Backend::Holder && socket.exists() {
            return Ok(view);
        }
        if !view.is_running() {
            return Err(BgError::NotRunning(id.clone()));
        }
        let open_err = |reason: String| BgError::Open {
            id: id.clone(),
            reason,
        };
        let cwd = PathBuf::from(&view.cwd);
        let spec = HolderSpec {
            id: id.clone(),
            name: view.name.clone(),
            command: commands::program().display().to_string(),
            args: commands::attach_args(job),
            cwd: if cwd.is_dir() {
                cwd
            } else {
                PathBuf::from("/")
            },
            env: Vec::new(),
            env_remove: crate::nested::in_process(),
            // The size of the daemon's own terminal for it; clients resize it as they attach.
            size: paddock_proto::Size {
                cols: 200,
                rows: 50,
            },
            ring_bytes: crate::start::DEFAULT_RING,
            grace_secs: 5,
            max_lag: paddock_host::spec::DEFAULT_MAX_LAG,
            tmux: None,
            adopted: None,
        };
        let exe = std::env::current_exe().map_err(|e| open_err(e.to_string()))?;
        let dir = self.runtime_dir().clone();
        tokio::task::spawn_blocking(move || crate::start::spawn(&exe, &dir, &spec))
            .await
            .map_err(|_| open_err("interrupted".into()))?
            .map_err(|e| open_err(e.to_string()))?;
        self.rescan();
        let view = self
            .claude_bg_wait(id, "attach", |v| {
                v.backend == Backend::Holder && v.is_running()
            })
            .await?;
        self.claude_bg_drawn(id).await?;
        Ok(view)
    }

    /// Waits until `claude attach` has drawn the agent's screen: typing before it has
    /// connected would be lost.
    async fn claude_bg_drawn(&self, id: &SessionId) -> Result<(), BgError> {
        use paddock_proto::{Hello, Mode, Request, Response};
        let socket = self.runtime_dir().socket_path(id);
        let deadline = tokio::time::Instant::now() + SETTLE;
        loop {
            let screen = match paddock_host::client::Client::connect(
                &socket,
                Hello::control(Mode::ReadOnly),
            )
            .await
            {
                Ok(mut c) => c.request(Request::Screen).await.ok(),
                Err(_) => None,
            };
            if let Some(Response::Screen { rows, .. }) = screen {
                if rows.iter().filter(|r| !r.trim().is_empty()).count() >= DRAWN_ROWS {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(BgError::Slow {
                    id: id.clone(),
                    action: "attach".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cbg_sessions_name_a_background_agent() {
        let id = SessionId::parse("cbg-e21643de").expect("valid");
        assert_eq!(job_id(&id), Some("e21643de"));
        assert_eq!(job_id(&SessionId::parse("abc123").expect("valid")), None);
        assert_eq!(job_id(&SessionId::parse("cbg-").expect("valid")), None);
    }
}
