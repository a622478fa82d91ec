//! The `paddock up` under measurement: started with the private environment, killed with
//! `kill -9` or stopped as a user would, and asked over its socket what it lists.

use super::env::Env;
use crate::harness::{Cleanup, Harness};
use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use paddock_host::client::Requester;
use paddock_proto::supervisor::{Backend, SessionView, SupervisorStatus};
use paddock_proto::{Hello, Mode, Request, Response};
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A `paddock up` started here; killed on drop.
pub(crate) struct Supervisor {
    child: Child,
    pub(crate) pid: u32,
    pub(super) spawned_at: Instant,
    cleanup: Cleanup,
}

impl Supervisor {
    pub(crate) fn spawn(h: &Harness, env: &Env) -> anyhow::Result<Self> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(h.dir().join("supervisor.err"))
            .context("cannot open the supervisor's log")?;
        let mut cmd = env.command(h.paddock());
        cmd.arg("up")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let spawned_at = Instant::now();
        let child = cmd.spawn().context("cannot start `paddock up`")?;
        let pid = child.id();
        let cleanup = h.cleanup_handle();
        cleanup.track(pid, false);
        Ok(Self {
            child,
            pid,
            spawned_at,
            cleanup,
        })
    }

    /// `kill -9`, and reaps it.
    pub(super) fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.cleanup.forget(self.pid);
    }

    /// SIGTERM, as a user would stop it; SIGKILL if it is still there after 5 s.
    pub(crate) fn stop(mut self) {
        if let Ok(p) = i32::try_from(self.pid) {
            let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Drop kills (if needed) and reaps.
    }

    pub(super) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(crate) fn hello() -> Hello {
    let mut hello = Hello::control(Mode::ReadOnly);
    hello.client_name = Some("bench".into());
    hello
}

pub(super) async fn status(socket: &Path) -> anyhow::Result<SupervisorStatus> {
    let mut c = Requester::connect(socket, hello()).await?;
    match c.request(Request::Status).await? {
        Response::Status { status } => Ok(*status),
        other => bail!("the supervisor answered {other:?} to status"),
    }
}

/// Polls the supervisor's session list (connecting as soon as it listens) until every holder
/// in `holders` is listed, running, with its agent's pid, and at least `panes` tmux sessions
/// are; returns that list. Fails at `deadline`.
pub(crate) async fn wait_listed(
    socket: &Path,
    holders: &HashMap<String, u32>,
    panes: usize,
    deadline: Instant,
) -> anyhow::Result<Vec<SessionView>> {
    let mut conn: Option<Requester> = None;
    let mut last = String::from("never answered");
    loop {
        if conn.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(Ok(c)) = tokio::time::timeout(left, Requester::connect(socket, hello())).await
            {
                conn = Some(c);
            }
        }
        if let Some(c) = &mut conn {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, c.request(Request::ListSessions)).await {
                Ok(Ok(Response::Sessions { sessions })) => {
                    let found = sessions
                        .iter()
                        .filter(|s| {
                            s.backend == Backend::Holder
                                && !s.status.state.is_final()
                                && holders.get(s.id.as_str()) == Some(&s.pid)
                        })
                        .count();
                    let tmux = sessions
                        .iter()
                        .filter(|s| s.backend == Backend::Tmux)
                        .count();
                    if found == holders.len() && tmux >= panes {
                        return Ok(sessions);
                    }
                    last = format!(
                        "{found} of {} holders, {tmux} of {panes} panes",
                        holders.len()
                    );
                }
                _ => conn = None,
            }
        }
        if Instant::now() >= deadline {
            bail!("the supervisor did not list every session in time: {last}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
