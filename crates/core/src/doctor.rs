//! `paddock doctor`'s checks, written once: the CLI (`paddock doctor`), `GET
//! /api/v1/system/doctor` and the UI's Settings page all call [`run`] with the [`Inputs`]
//! they can see, and show the [`DoctorReport`] it returns.
//!
//! Each check says ✓ (fine), ! (works, worth a look) or ✗ (broken), what it found and what to
//! do next. A check never prints a secret: authentication is reported by where it comes from
//! (a variable's name, a file's path), never by its value.

use paddock_proto::doctor::{CheckStatus, DoctorCheck, DoctorReport};
use paddock_proto::supervisor::SupervisorStatus;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The agent CLI versions Paddock's tests run (`scripts/agent-versions.env`).
const TESTED: &str = include_str!("../../../scripts/agent-versions.env");
/// How long an agent's `--version` or `tmux -V` may take.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the hook round trip and the endpoint's connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
mod agents;
mod environment;
mod resources;
mod running;

use agents::{agent_checks, AGENTS};
pub use agents::{tested_version, which};
use environment::{login_env_check, nested_check, tmux_check};
use resources::{disk_check, open_files_check};
use running::{endpoint_check, hooks_check, runtime_dir_check, supervisor_check};

/// What the caller can see; each adapter fills it in its own way.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The environment a session started now inherits (the shell's for the CLI, the
    /// supervisor's for REST): checked for the variables that break a nested agent.
    pub env: Vec<(String, String)>,
    /// The owner's login-shell environment when it was read (see `crate::login_env`);
    /// agents are looked up on its `PATH` and its API keys count.
    pub login_env: Option<Vec<(String, String)>>,
    /// Why the login-shell environment could not be read, when it could not.
    pub login_env_error: Option<String>,
    pub runtime_dir: PathBuf,
    pub data_dir: PathBuf,
    /// The supervisor's own status, `None` when it does not run.
    pub supervisor: Option<SupervisorStatus>,
    /// The supervisor keeps the variables of a parent Claude Code (`agents.keep_nested_env`).
    pub keep_nested_env: bool,
}

/// Runs every check (blocking: call it off the async runtime, or from a plain thread).
pub fn run(inputs: &Inputs) -> DoctorReport {
    let mut checks = Vec::new();
    let lookup_env = inputs.login_env.as_deref().unwrap_or(&inputs.env);
    checks.push(login_env_check(inputs));
    for agent in AGENTS {
        checks.extend(agent_checks(agent, lookup_env, &inputs.env));
    }
    checks.push(nested_check(&inputs.env, inputs.keep_nested_env));
    checks.push(tmux_check(lookup_env));
    checks.push(runtime_dir_check(&inputs.runtime_dir));
    checks.push(supervisor_check(
        inputs.supervisor.as_ref(),
        &inputs.runtime_dir,
    ));
    checks.push(hooks_check(
        inputs.supervisor.is_some(),
        &inputs.runtime_dir,
    ));
    checks.push(endpoint_check(inputs.supervisor.as_ref(), &inputs.data_dir));
    checks.push(disk_check(&inputs.data_dir));
    checks.push(open_files_check(inputs.supervisor.as_ref()));
    DoctorReport::new(checks)
}

impl crate::supervisor::Handle {
    /// The checks as the supervisor sees them: its own environment (the one the sessions it
    /// starts inherit), its status, directories and configuration.
    /// With `agents.login_env` on, the owner's login-shell environment is read again first.
    pub async fn doctor(&self) -> DoctorReport {
        let handle = self.clone();
        let login = if self.config().agents.login_env {
            tokio::task::spawn_blocking(move || handle.login_env().refresh())
                .await
                .ok()
        } else {
            None
        };
        let (login_env, login_env_error) = match login {
            Some(Ok(vars)) => (Some(vars.as_ref().clone()), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, None),
        };
        let inputs = Inputs {
            env: std::env::vars().collect(),
            login_env,
            login_env_error,
            runtime_dir: self.runtime_dir().path().to_owned(),
            data_dir: self.config().data_dir(),
            supervisor: Some(self.status()),
            keep_nested_env: self.config().agents.keep_nested_env,
        };
        tokio::task::spawn_blocking(move || run(&inputs))
            .await
            .unwrap_or_else(|_| {
                DoctorReport::new(vec![check(
                    "doctor",
                    "Doctor",
                    CheckStatus::Fail,
                    "the checks stopped inside the supervisor; see its log",
                )])
            })
    }
}

fn check(id: &str, title: &str, status: CheckStatus, detail: impl Into<String>) -> DoctorCheck {
    DoctorCheck {
        id: id.to_owned(),
        title: title.to_owned(),
        status,
        detail: detail.into(),
        fix: None,
    }
}

trait WithFix {
    fn fix(self, fix: impl Into<String>) -> Self;
}

impl WithFix for DoctorCheck {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

fn var<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Runs `cmd` and returns its standard output (and error) once it exits successfully within
/// `timeout`; it is killed after that.
pub fn output_within(mut cmd: Command, timeout: Duration) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {timeout:?}"));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if status.success() {
        Ok(text)
    } else {
        Err(format!("it exited with {status}: {}", text.trim()))
    }
}

#[cfg(test)]
mod tests;
