//! Replacing a running supervisor of another build (`paddock up` after an upgrade): ask it
//! which build it is, stop it, and once this one runs say what happened to its sessions.
//! Holders never depend on a supervisor, so stopping one loses no agent; the new one adopts
//! them by the holder protocol (see ARCHITECTURE.md, "Upgrades").
//!
//! Called by `paddock up` before it starts the supervisor ([`previous`], [`stop`]) and after
//! ([`wait_adopted`], [`Replaced`]).

use crate::supervisor::{socket_path, Handle};
use paddock_host::client::Requester;
use paddock_proto::supervisor::SupervisorStatus;
use paddock_proto::{Hello, Mode, Request, Response};
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a supervisor may take to answer `status` before it counts as not running.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a supervisor may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long after a KILL its lock may stay taken before giving up.
const KILL_TIMEOUT: Duration = Duration::from_secs(3);

/// Which build a supervisor is: its package version and the commit it was built from (absent
/// from builds older than this field, and from builds made outside a git checkout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub version: String,
    pub commit: Option<String>,
}

/// The commit this process's binary was built from, as its `main` recorded it.
static COMMIT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records the commit the running binary was built from (its build script's
/// `BUILD_GIT_COMMIT`; empty when not known). The binaries call it first thing in `main`: the
/// commit is recorded there, not in this library, so a new commit relinks only them. The
/// first call wins.
pub fn record_commit(commit: &str) {
    let _ = COMMIT.set(commit.trim().to_owned());
}

impl Build {
    /// This build: the package version and the commit [`record_commit`] was given (none when
    /// it was never called, as in a library's own tests).
    pub fn current() -> Self {
        let commit = COMMIT.get().filter(|c| !c.is_empty()).cloned();
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit,
        }
    }

    /// The build a status describes.
    pub fn of(status: &SupervisorStatus) -> Self {
        Self {
            version: status.version.clone(),
            commit: status.commit.clone(),
        }
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.commit {
            Some(c) => write!(f, "paddock {} (commit {c})", self.version),
            None => write!(f, "paddock {} (commit not recorded)", self.version),
        }
    }
}

/// Why a running supervisor could not be replaced.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("the running supervisor ({build}, pid {pid}) did not stop within {waited} s of SIGTERM and SIGKILL; stop it yourself (`kill {pid}`) and run `paddock up` again")]
    DidNotStop { build: Build, pid: u32, waited: u64 },
    #[error("a supervisor of another build ({build}) runs inside another program (pid {pid}: {command}), probably the desktop app; quit it (its agents keep running) and run `paddock up` again")]
    NotPaddockUp {
        build: Build,
        pid: u32,
        command: String,
    },
    #[error("cannot stop the running supervisor ({build}, pid {pid}): {source}; stop it yourself and run `paddock up` again")]
    Signal {
        build: Build,
        pid: u32,
        source: nix::Error,
    },
}

/// The supervisor that answers on the socket in `runtime_dir`, if one does: its status says
/// its build, pid and sessions.
pub async fn previous(runtime_dir: &Path) -> Option<SupervisorStatus> {
    let socket = socket_path(runtime_dir);
    if !socket.exists() {
        return None;
    }
    let ask = async {
        let mut hello = Hello::control(Mode::ReadOnly);
        hello.client_name = Some("paddock up".into());
        let mut c = Requester::connect(&socket, hello).await.ok()?;
        match c.request(Request::Status).await.ok()? {
            Response::Status { status } => Some(*status),
            _ => None,
        }
    };
    tokio::time::timeout(ASK_TIMEOUT, ask).await.ok().flatten()
}

/// Stops the supervisor `status` describes (SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]) and
/// waits until its process is gone, so this one can take the lock. Its holders keep running.
pub async fn stop(status: &SupervisorStatus) -> Result<(), UpgradeError> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let build = Build::of(status);
    let raw = i32::try_from(status.pid).unwrap_or(i32::MAX);
    let pid = Pid::from_raw(raw);
    let gone = |deadline: Instant| async move {
        while Instant::now() < deadline {
            // ESRCH: no such process. A zombie (our own child in tests) counts as gone too.
            if kill(pid, None).is_err() || is_zombie(raw) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    let signal_error = |source| UpgradeError::Signal {
        build: build.clone(),
        pid: status.pid,
        source,
    };
    // Only a `paddock up` is stopped: a supervisor inside the desktop app goes with the app.
    if let Some(command) = command_line(status.pid) {
        if !is_paddock_up(&command) {
            return Err(UpgradeError::NotPaddockUp {
                build,
                pid: status.pid,
                command,
            });
        }
    }
    match kill(pid, Signal::SIGTERM) {
        Ok(()) => {}
        Err(nix::Error::ESRCH) => return Ok(()),
        Err(e) => return Err(signal_error(e)),
    }
    if gone(Instant::now() + STOP_TIMEOUT).await {
        return Ok(());
    }
    tracing::warn!(
        pid = status.pid,
        "the old supervisor ignored SIGTERM; killing it"
    );
    match kill(pid, Signal::SIGKILL) {
        Ok(()) | Err(nix::Error::ESRCH) => {}
        Err(e) => return Err(signal_error(e)),
    }
    if gone(Instant::now() + KILL_TIMEOUT).await {
        return Ok(());
    }
    Err(UpgradeError::DidNotStop {
        build,
        pid: status.pid,
        waited: (STOP_TIMEOUT + KILL_TIMEOUT).as_secs(),
    })
}

/// A process's command line as `ps` shows it (Linux and macOS alike); `None` when it cannot
/// be read.
fn command_line(pid: u32) -> Option<String> {
    let out = std::process::Command::new("ps")
        .args(["-o", "args=", "-p", &pid.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Whether a command line is `paddock up` (any path to a binary named `paddock`).
fn is_paddock_up(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or_default();
    let name = program.rsplit('/').next().unwrap_or(program);
    name == "paddock" && words.next() == Some("up")
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Waits until this supervisor lists at least `count` sessions (the old one's), or `timeout`
/// passes; answers how many it lists.
pub async fn wait_adopted(handle: &Handle, count: usize, timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let listed = handle.sessions().len();
        if listed >= count || Instant::now() >= deadline {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What `paddock up` did when it replaced a supervisor, as one line for its owner.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub old: Build,
    pub old_pid: u32,
    pub new: Build,
    /// The old supervisor's sessions.
    pub sessions: usize,
    /// How many this one lists now.
    pub adopted: usize,
}

impl fmt::Display for Replaced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Replaced the supervisor of {}, pid {}, with {}; ",
            self.old, self.old_pid, self.new
        )?;
        let s = |n: usize| if n == 1 { "" } else { "s" };
        if self.adopted >= self.sessions {
            let verb = if self.sessions == 1 { "was" } else { "were" };
            write!(
                f,
                "its {} session{} {verb} adopted",
                self.sessions,
                s(self.sessions)
            )
        } else {
            write!(
                f,
                "{} of its {} session{} adopted so far (`paddock ls` shows the others as they are found; agents keep running either way)",
                self.adopted,
                self.sessions,
                s(self.sessions)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(commit: Option<&str>) -> Build {
        Build {
            version: "0.1.0".into(),
            commit: commit.map(str::to_owned),
        }
    }

    #[test]
    fn only_a_paddock_up_is_stopped() {
        assert!(is_paddock_up(
            "/opt/paddock/target/debug/paddock up --detached"
        ));
        assert!(is_paddock_up("paddock up"));
        assert!(!is_paddock_up(
            "/Applications/Paddock.app/Contents/MacOS/paddock-app"
        ));
        assert!(!is_paddock_up("/usr/bin/paddock attach shell"));
    }

    #[test]
    fn this_process_command_line_is_read() {
        let line = command_line(std::process::id()).expect("ps reads our own command line");
        assert!(
            !is_paddock_up(&line),
            "a test binary is not paddock up: {line}"
        );
    }

    #[test]
    fn the_message_names_both_builds_and_the_sessions() {
        let r = Replaced {
            old: build(None),
            old_pid: 41,
            new: build(Some("abc123")),
            sessions: 2,
            adopted: 2,
        };
        assert_eq!(
            r.to_string(),
            "Replaced the supervisor of paddock 0.1.0 (commit not recorded), pid 41, with paddock 0.1.0 (commit abc123); its 2 sessions were adopted"
        );
        let partial = Replaced { adopted: 1, ..r };
        assert!(partial
            .to_string()
            .contains("1 of its 2 sessions adopted so far"));
    }
}
