//! Starting a holder process, for `paddock run` and for the supervisor (which starts tmux
//! bridges for the agent panes it discovers).
//!
//! The holder is `<exe> __holder` (the `paddock` binary): it reads a [`HolderSpec`] as JSON
//! on its standard input, starts the session, and prints one JSON line, a [`Report`], on its
//! standard output: `{"ok": {"id", "pid", "holder_pid"}}` once the session runs, or
//! `{"error": "..."}`. Its standard error goes to `<runtime>/<id>.log`. It puts itself in a
//! session of its own, so it outlives whoever launched it.
//!
//! [`spawn`] does all of this and waits (blocking, up to [`READY_TIMEOUT`]) for the report;
//! async callers run it on a blocking thread. The launcher stays the holder's parent until
//! it exits itself, so `spawn` leaves a small thread waiting on the holder to reap it (no
//! zombie in a long-lived supervisor).

use crate::dirs::RuntimeDir;
use crate::holder::Ready;
use crate::spec::HolderSpec;
use paddock_proto::SessionId;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long [`spawn`] waits for the holder to report.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// The line a holder prints when it is ready or has failed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    Ok(Ready),
    Error(String),
}

/// Why a holder could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot create the holder's log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the session's holder process ({exe}): {source}")]
    Spawn {
        exe: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot hand the session's spec to its holder: {0}")]
    Spec(std::io::Error),
    #[error("the holder did not report within {timeout:?}; see {log}")]
    Timeout { timeout: Duration, log: PathBuf },
    /// The holder's own message, which says what went wrong and what to do.
    #[error("{0}")]
    Refused(String),
    #[error("the holder exited before the session started; see {log}")]
    Exited { log: PathBuf },
}

/// The program that runs holders: `paddock-holder` beside `paddock` when it is there (a small
/// binary, fewer resident pages per session), else `paddock` itself (`paddock __holder`).
pub fn holder_exe(paddock: &Path) -> PathBuf {
    let dedicated = paddock.with_file_name("paddock-holder");
    if dedicated.is_file() {
        dedicated
    } else {
        paddock.to_owned()
    }
}

/// Starts `exe __holder` (or `paddock-holder` beside it, see [`holder_exe`]) for `spec` and
/// waits until the session runs. On failure the
/// session's files are removed (except the holder's log when it did not report, which says
/// why).
pub fn spawn(exe: &Path, dir: &RuntimeDir, spec: &HolderSpec) -> Result<Ready, LaunchError> {
    let log_path = dir.log_path(&spec.id);
    let log = std::fs::OpenOptions::new()
        .mode(0o600)
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|source| LaunchError::Log {
            path: log_path.clone(),
            source,
        })?;
    let mut cmd = Command::new(holder_exe(exe));
    if dir.path() != crate::dirs::runtime_dir_path() {
        // The holder finds its directory as every paddock process does; tell it this one.
        cmd.env("PADDOCK_RUNTIME_DIR", dir.path());
    }
    for name in &spec.env_remove {
        cmd.env_remove(name);
    }
    let mut child = cmd
        .arg("__holder")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            exe: exe.to_owned(),
            source,
        })?;
    let result = handshake(&mut child, spec, &log_path);
    match &result {
        Ok(_) => reap_later(child),
        Err(LaunchError::Refused(_)) => {
            let _ = child.wait();
            dir.remove_session_files(&spec.id);
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    result
}

/// Starts a tmux bridge for `pane` (e.g. `%3`) of the tmux server at `socket`, as session
/// `id` (the supervisor's convention is `tmux-<server>-<pane number>`).
pub fn spawn_tmux_bridge(
    exe: &Path,
    dir: &RuntimeDir,
    id: SessionId,
    name: String,
    socket: PathBuf,
    pane: String,
) -> Result<Ready, LaunchError> {
    spawn(exe, dir, &HolderSpec::tmux_bridge(id, name, socket, pane))
}

fn handshake(child: &mut Child, spec: &HolderSpec, log: &Path) -> Result<Ready, LaunchError> {
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| LaunchError::Spec(std::io::Error::other("the holder has no stdin")))?;
    let json = serde_json::to_vec(spec).map_err(|e| LaunchError::Spec(e.into()))?;
    stdin.write_all(&json).map_err(LaunchError::Spec)?;
    drop(stdin);
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| LaunchError::Spec(std::io::Error::other("the holder has no stdout")))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("holder-report".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        })
        .map_err(LaunchError::Spec)?;
    let line = rx
        .recv_timeout(READY_TIMEOUT)
        .map_err(|_| LaunchError::Timeout {
            timeout: READY_TIMEOUT,
            log: log.to_owned(),
        })?;
    match serde_json::from_str::<Report>(line.trim()) {
        Ok(Report::Ok(ready)) => Ok(ready),
        Ok(Report::Error(e)) => Err(LaunchError::Refused(e)),
        Err(_) => Err(LaunchError::Exited {
            log: log.to_owned(),
        }),
    }
}

/// Waits for the holder on a small thread, so that it is reaped when it ends.
fn reap_later(mut child: Child) {
    let spawned = std::thread::Builder::new()
        .name("holder-reaper".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let _ = child.wait();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start a thread to reap the holder; it will be a zombie after it exits until this process does");
    }
}
