//! The bench's harness: a private runtime directory under /tmp, the holders started in it
//! with `paddock run`, the files agents read, and the deadline every wait is bounded by.
//!
//! Everything started here is killed and the directory removed when the [`Harness`] is
//! dropped, whether the run succeeded or failed, and by the signal thread (through a
//! [`Cleanup`] handle) when the run is interrupted.

use crate::options::Options;
use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::fs;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Every session runs in a terminal of this size.
pub const COLS: u16 = 200;
pub const ROWS: u16 = 50;

/// A holder started by the harness.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub socket: PathBuf,
    pub holder_pid: u32,
    /// The agent's pid, which is also its process group.
    pub agent_pid: u32,
}

/// A text file of printable lines, and how many bytes it becomes on a terminal.
#[derive(Debug, Clone)]
pub struct TextFile {
    pub path: PathBuf,
    pub len: u64,
    pub newlines: u64,
}

impl TextFile {
    /// Bytes a reader of the PTY master receives when the file is written to the slave: the
    /// tty's ONLCR turns every `\n` into `\r\n`.
    pub fn tty_bytes(&self) -> u64 {
        self.len + self.newlines
    }
}

/// Owns the runtime directory and everything started in it.
pub struct Harness {
    paddock: PathBuf,
    dir: PathBuf,
    cleanup: Cleanup,
    sessions_started: u32,
    tmux_servers: AtomicU32,
}

impl Harness {
    /// Finds the paddock binary and creates a fresh private runtime directory.
    pub fn new(opts: &Options) -> anyhow::Result<Self> {
        let paddock = match &opts.paddock {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .context("cannot find this executable")?
                .with_file_name("paddock"),
        };
        if !paddock.is_file() {
            bail!(
                "no paddock binary at {}: build it with `cargo build --release -p paddock` or pass --paddock PATH",
                paddock.display()
            );
        }
        // Short, because a unix socket path must fit in 108 bytes.
        let dir = PathBuf::from(format!("/tmp/pdb-{}", std::process::id()));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create the runtime directory {}", dir.display()))?;
        Ok(Self {
            paddock,
            cleanup: Cleanup::new(dir.clone()),
            dir,
            sessions_started: 0,
            tmux_servers: AtomicU32::new(0),
        })
    }

    pub fn paddock(&self) -> &Path {
        &self.paddock
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A handle that can clean up from another thread.
    pub fn cleanup_handle(&self) -> Cleanup {
        self.cleanup.clone()
    }

    /// Starts `command` in a new 200×50 session with `paddock run` (plus `extra` options
    /// such as `--ring`) and returns once its agent runs.
    pub fn start_session(&mut self, extra: &[&str], command: &[&str]) -> anyhow::Result<Session> {
        self.sessions_started += 1;
        let name = format!("bench-{}", self.sessions_started);
        let (cols, rows) = (COLS.to_string(), ROWS.to_string());
        let out = Command::new(&self.paddock)
            .env("PADDOCK_RUNTIME_DIR", &self.dir)
            .args(["run", "--name", &name, "--cols", &cols, "--rows", &rows])
            .args(extra)
            .arg("--")
            .args(command)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", self.paddock.display()))?;
        if !out.status.success() {
            bail!(
                "`paddock run` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let meta_path = self.dir.join(format!("{id}.json"));
        let meta: serde_json::Value = fs::read(&meta_path)
            .map_err(anyhow::Error::from)
            .and_then(|b| Ok(serde_json::from_slice(&b)?))
            .with_context(|| format!("cannot read the session metadata {}", meta_path.display()))?;
        let pid = |field: &str| {
            meta[field]
                .as_u64()
                .and_then(|p| u32::try_from(p).ok())
                .ok_or_else(|| anyhow!("{} has no {field}", meta_path.display()))
        };
        let session = Session {
            socket: self.dir.join(format!("{id}.sock")),
            holder_pid: pid("holder_pid")?,
            agent_pid: pid("pid")?,
            id,
        };
        self.cleanup.state().sessions.push(session.clone());
        Ok(session)
    }

    /// Kills a session's agent and holder and waits until the holder is gone, so that the
    /// next measurement does not share the CPU with it.
    pub fn stop(&mut self, session: &Session) {
        kill_session(session);
        self.cleanup.state().sessions.retain(|s| s.id != session.id);
        let gone = wait_for(Duration::from_secs(5), || {
            !process_alive(session.holder_pid)
        });
        if !gone {
            eprintln!(
                "paddock-bench: holder {} still alive 5 s after SIGKILL",
                session.holder_pid
            );
        }
        for ext in ["sock", "json", "log"] {
            let _ = fs::remove_file(self.dir.join(format!("{}.{ext}", session.id)));
        }
    }

    /// Writes `len` bytes of printable 99-character lines to `name` in the runtime directory.
    pub fn text_file(&self, name: &str, len: u64) -> anyhow::Result<TextFile> {
        const LINE: u64 = 100;
        let path = self.dir.join(name);
        let mut out = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
        let mut chunk = Vec::with_capacity(1 << 20);
        let mut newlines = 0;
        let mut i = 0u64;
        while i < len {
            chunk.clear();
            while i < len && chunk.len() < (1 << 20) {
                if i % LINE == LINE - 1 {
                    chunk.push(b'\n');
                    newlines += 1;
                } else {
                    chunk.push(b'!' + ((i / LINE + i) % 94) as u8);
                }
                i += 1;
            }
            out.write_all(&chunk)?;
        }
        // Written back now, so that no disk writeback competes with the measurements.
        out.into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()
            .with_context(|| format!("cannot sync {}", path.display()))?;
        Ok(TextFile {
            path,
            len,
            newlines,
        })
    }

    /// Writes `bytes` to `name` in the runtime directory.
    pub fn file(&self, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(name);
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// A fresh path for a tmux server's socket in the runtime directory (never reused, so a
    /// new server cannot meet a dying one).
    pub fn tmux_socket(&self, name: &str) -> PathBuf {
        let n = self.tmux_servers.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{name}-{n}.tmux"))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cleanup.run();
    }
}

/// Kills what the harness started and removes its directory; safe to run twice and from
/// any thread.
#[derive(Clone)]
pub struct Cleanup(Arc<Mutex<CleanupState>>);

struct CleanupState {
    dir: PathBuf,
    sessions: Vec<Session>,
    /// Other processes to kill (tmux servers and clients), each with whether to kill its
    /// process group too.
    processes: Vec<(u32, bool)>,
    done: bool,
}

impl Cleanup {
    fn new(dir: PathBuf) -> Self {
        Self(Arc::new(Mutex::new(CleanupState {
            dir,
            sessions: Vec::new(),
            processes: Vec::new(),
            done: false,
        })))
    }

    fn state(&self) -> MutexGuard<'_, CleanupState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Kills `pid` (and its process group if `group`, for a session leader) at cleanup,
    /// unless [`Cleanup::forget`] is called first.
    pub fn track(&self, pid: u32, group: bool) {
        self.state().processes.push((pid, group));
    }

    /// `pid` has been dealt with.
    pub fn forget(&self, pid: u32) {
        self.state().processes.retain(|(p, _)| *p != pid);
    }

    pub fn run(&self) {
        let mut state = self.state();
        if state.done {
            return;
        }
        state.done = true;
        // Also any holder whose `paddock run` failed half way: its metadata names it.
        let mut sessions = std::mem::take(&mut state.sessions);
        sessions.extend(sessions_in(&state.dir));
        for s in &sessions {
            kill_session(s);
        }
        for &(pid, group) in &state.processes {
            if let Some(pid) = safe_pid(pid) {
                if group {
                    let _ = killpg(pid, Signal::SIGKILL);
                }
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        // A holder killed while it writes its metadata can still create a file: let the
        // holders go before the directory does.
        wait_for(Duration::from_secs(2), || {
            sessions.iter().all(|s| !process_alive(s.holder_pid))
        });
        let removed = fs::remove_dir_all(&state.dir).or_else(|_| fs::remove_dir_all(&state.dir));
        if let Err(e) = removed {
            eprintln!("paddock-bench: cannot remove {}: {e}", state.dir.display());
        }
    }
}

/// The sessions whose metadata is in `dir`, whoever started them.
pub fn sessions_in(dir: &Path) -> Vec<Session> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let id = path
                .file_name()?
                .to_str()?
                .strip_suffix(".json")?
                .to_owned();
            let meta: serde_json::Value = serde_json::from_slice(&fs::read(&path).ok()?).ok()?;
            Some(Session {
                socket: dir.join(format!("{id}.sock")),
                holder_pid: u32::try_from(meta["holder_pid"].as_u64()?).ok()?,
                agent_pid: u32::try_from(meta["pid"].as_u64()?).ok()?,
                id,
            })
        })
        .collect()
}

fn kill_session(s: &Session) {
    if let Some(group) = safe_pid(s.agent_pid) {
        let _ = killpg(group, Signal::SIGKILL);
    }
    if let Some(holder) = safe_pid(s.holder_pid) {
        let _ = kill(holder, Signal::SIGKILL);
    }
}

/// A pid that is neither init, nor 0 (our own group), nor this process.
fn safe_pid(pid: u32) -> Option<Pid> {
    let pid = i32::try_from(pid).ok()?;
    (pid > 1 && pid != std::process::id() as i32).then(|| Pid::from_raw(pid))
}

/// Whether `pid` exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Polls `cond` every millisecond until it holds or `limit` passes; returns whether it held.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `work` on its own thread and waits for it for at most `limit`. Past the limit,
/// `unblock` is called (it must make `work` return, say by killing the process it reads
/// from) and the run fails.
pub fn with_deadline<T: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    unblock: impl FnOnce(),
) -> anyhow::Result<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(what.chars().take(15).collect())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .with_context(|| format!("cannot start a thread for {what}"))?;
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            unblock();
            bail!("{what} did not finish within {limit:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => bail!("{what} panicked"),
    }
}

/// How long a run that pushes `bytes` may take before it is declared stuck: generous, at
/// 2 MB/s plus a minute.
pub fn transfer_limit(bytes: u64) -> Duration {
    Duration::from_secs(60 + bytes / 2_000_000)
}
