//! Finding the session a command names and connecting to its holder.

use crate::errors::CliError;
use anyhow::Context;
use paddock_host::client::Client;
use paddock_host::{sessions, RuntimeDir};
use paddock_proto::supervisor::SessionView;
use paddock_proto::{Hello, SessionInfo, SessionState};

/// A session named on the command line.
pub struct Target {
    pub dir: RuntimeDir,
    pub info: SessionInfo,
}

/// A session whose terminal Paddock does not hold (a tmux pane without a bridge, or a
/// process in some other terminal), known through the supervisor.
pub struct Unheld {
    pub view: SessionView,
}

/// Any session the user can name.
pub enum AnyTarget {
    Held(Target),
    Unheld(Unheld),
}

/// Resolves `query` (id, name or unique id prefix) among the sessions Paddock holds. For a
/// session the supervisor knows but Paddock does not hold, says plainly what is possible.
pub async fn find(query: &str) -> anyhow::Result<Target> {
    match find_any(query).await? {
        AnyTarget::Held(t) => Ok(t),
        AnyTarget::Unheld(u) => Err(CliError::NotHeld {
            id: u.view.id.to_string(),
            backend: u.view.backend.to_string(),
        }
        .into()),
    }
}

/// Resolves `query` among every session: Paddock's own first, then the supervisor's.
pub async fn find_any(query: &str) -> anyhow::Result<AnyTarget> {
    let dir = paddock_host::runtime_dir()?;
    let all = sessions::list(&dir).await;
    match sessions::resolve(&all, query) {
        Ok(info) => Ok(AnyTarget::Held(Target {
            dir,
            info: info.clone(),
        })),
        Err(not_held) => {
            let Some(views) = crate::supervisor_client::sessions().await? else {
                return Err(not_held.into());
            };
            match pick(&views, query) {
                // A Claude Code background agent: its terminal opens on first use.
                Some(v) if paddock_core::agents::claude_bg::ops::job_id(&v.id).is_some() => {
                    let opened =
                        crate::claude_bg::act(&v.id, paddock_proto::BgAction::Open).await?;
                    let all = sessions::list(&dir).await;
                    let info = sessions::resolve(&all, opened.id.as_str())?;
                    Ok(AnyTarget::Held(Target {
                        dir,
                        info: info.clone(),
                    }))
                }
                Some(v) => Ok(AnyTarget::Unheld(Unheld { view: v.clone() })),
                None => Err(not_held.into()),
            }
        }
    }
}

/// The session `query` names among `views`: its id, else its unique name, else a unique id
/// prefix.
pub fn pick<'a>(views: &'a [SessionView], query: &str) -> Option<&'a SessionView> {
    let by_id = views.iter().find(|v| v.id.as_str() == query);
    let by_name: Vec<&SessionView> = views.iter().filter(|v| v.name == query).collect();
    let by_prefix: Vec<&SessionView> = views
        .iter()
        .filter(|v| v.id.as_str().starts_with(query))
        .collect();
    by_id
        .or_else(|| (by_name.len() == 1).then(|| by_name[0]))
        .or_else(|| (by_prefix.len() == 1).then(|| by_prefix[0]))
}

impl Unheld {
    /// Sends a signal straight to the process (we are the same user): to its process group
    /// when it leads one, else to the process alone.
    pub fn signal(&self, sig: paddock_proto::Signal) -> anyhow::Result<()> {
        use nix::sys::signal::{kill, killpg, Signal as S};
        use nix::unistd::{getpgid, Pid};
        let nix_sig = match sig {
            paddock_proto::Signal::Int => S::SIGINT,
            paddock_proto::Signal::Term => S::SIGTERM,
            paddock_proto::Signal::Kill => S::SIGKILL,
            paddock_proto::Signal::Hup => S::SIGHUP,
            paddock_proto::Signal::Stop => S::SIGSTOP,
            paddock_proto::Signal::Cont => S::SIGCONT,
        };
        let pid = Pid::from_raw(self.view.pid as i32);
        let result = match getpgid(Some(pid)) {
            Ok(pgid) if pgid == pid => killpg(pid, nix_sig),
            _ => kill(pid, nix_sig),
        };
        result.with_context(|| {
            format!(
                "cannot send SIG{sig} to {} (pid {}); it may have exited (`paddock ls` shows it)",
                self.view.id, self.view.pid
            )
        })
    }
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
