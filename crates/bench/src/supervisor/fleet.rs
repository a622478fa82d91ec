//! The sessions a supervisor measurement watches: holders started through the harness and
//! the panes of one private tmux server, all running the `claude` copy of /bin/sleep.

use super::env::Env;
use super::procstat::ProcStat;
use crate::harness::{sessions_in, Cleanup, Harness, Session};
use anyhow::Context;
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::process::{Command, Stdio};

/// The sessions started for this measurement.
#[derive(Default)]
pub(crate) struct Fleet {
    pub(super) holders: Vec<Session>,
    pub(super) tmux: Option<TmuxServer>,
}

impl Fleet {
    pub(super) fn panes(&self) -> usize {
        self.tmux.as_ref().map_or(0, |t| t.panes.len())
    }

    /// Starts `holders` more holders and `panes` more tmux panes.
    pub(crate) fn grow(
        &mut self,
        h: &mut Harness,
        env: &Env,
        holders: usize,
        panes: usize,
    ) -> anyhow::Result<()> {
        let claude = env.claude.to_string_lossy().into_owned();
        for _ in 0..holders {
            // A copy of sleep named claude: no hooks for it (it would take them as arguments).
            let session = h.start_session(&["--no-hooks"], &[&claude, "100000"])?;
            self.holders.push(session);
        }
        if panes > 0 {
            let (tmux, more) = match &mut self.tmux {
                Some(t) => (t, panes),
                // The session comes with its first pane.
                None => (self.tmux.insert(TmuxServer::start(h, env)?), panes - 1),
            };
            tmux.add_panes(env, more)?;
        }
        Ok(())
    }

    /// The holders' ids and their agents' pids.
    pub(crate) fn holder_pids(&self) -> HashMap<String, u32> {
        self.holders
            .iter()
            .map(|s| (s.id.clone(), s.agent_pid))
            .collect()
    }

    /// Stops every session, the bridges the supervisor started for the panes too (call it
    /// once no supervisor runs, or it would start them again).
    pub(crate) fn stop(&mut self, h: &mut Harness) {
        for s in std::mem::take(&mut self.holders) {
            h.stop(&s);
        }
        for s in sessions_in(h.dir()) {
            h.stop(&s);
        }
        self.tmux = None;
    }
}

/// A private tmux server (`-L pdb` under our `TMUX_TMPDIR`) whose panes each run `claude`;
/// killed on drop.
pub(super) struct TmuxServer {
    server_pid: u32,
    panes: Vec<u32>,
    cleanup: Cleanup,
    kill: Command,
}

const TMUX_SESSION: &str = "bench";

impl TmuxServer {
    fn start(h: &Harness, env: &Env) -> anyhow::Result<Self> {
        let claude = env.claude.to_string_lossy();
        let new_session = [
            "new-session",
            "-d",
            "-s",
            TMUX_SESSION,
            "-x",
            "200",
            "-y",
            "50",
            &claude,
            "100000",
        ];
        tmux_output(env, &new_session)?;
        let pid = tmux_output(env, &["display-message", "-p", "#{pid}"])?;
        let server_pid: u32 = pid.trim().parse().context("tmux printed a bad pid")?;
        let cleanup = h.cleanup_handle();
        cleanup.track(server_pid, false);
        let mut kill = env.tmux();
        kill.arg("kill-server").stderr(Stdio::null());
        let mut server = Self {
            server_pid,
            panes: Vec::new(),
            cleanup,
            kill,
        };
        server.track_panes(env)?;
        Ok(server)
    }

    /// Opens `n` more windows running `claude`, in one tmux call.
    fn add_panes(&mut self, env: &Env, n: usize) -> anyhow::Result<()> {
        let claude = env.claude.to_string_lossy();
        if n > 0 {
            let mut args: Vec<&str> = Vec::new();
            for i in 0..n {
                if i > 0 {
                    args.push(";");
                }
                args.extend(["new-window", "-d", "-t", TMUX_SESSION, &claude, "100000"]);
            }
            tmux_output(env, &args)?;
        }
        self.track_panes(env)
    }

    /// Reads the panes' pids and has the harness kill their groups at cleanup.
    fn track_panes(&mut self, env: &Env) -> anyhow::Result<()> {
        let list = tmux_output(env, &["list-panes", "-a", "-F", "#{pane_pid}"])?;
        for pid in list.split_whitespace() {
            let pid: u32 = pid.parse().context("tmux printed a bad pane pid")?;
            if !self.panes.contains(&pid) {
                // A pane's process leads its own session: its group goes too.
                self.cleanup.track(pid, true);
                self.panes.push(pid);
            }
        }
        Ok(())
    }

    /// CPU time the server has used, in clock ticks.
    pub(super) fn cpu_ticks(&self) -> u64 {
        ProcStat::of(self.server_pid).map_or(0, |s| s.utime + s.stime)
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        // The panes first, while tmux has not reaped them (their pids are still theirs).
        for &pid in &self.panes {
            if let Ok(p) = i32::try_from(pid) {
                let _ = killpg(Pid::from_raw(p), Signal::SIGKILL);
            }
            self.cleanup.forget(pid);
        }
        let stopped = self.kill.status().is_ok_and(|s| s.success());
        if !stopped {
            if let Ok(p) = i32::try_from(self.server_pid) {
                let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
            }
        }
        self.cleanup.forget(self.server_pid);
    }
}

/// Runs tmux on the measurement's private server.
fn tmux_output(env: &Env, args: &[&str]) -> anyhow::Result<String> {
    crate::tmux::run(env.tmux(), args)
}
