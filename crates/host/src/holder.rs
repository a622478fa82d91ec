//! The holder process: owns one agent's PTY (or mirrors one tmux pane, see
//! [`crate::tmux_pane`]) and serves it on a unix socket until the agent has exited and the
//! grace period is over (or the session is removed).
//!
//! Shape: a current-thread tokio runtime runs the accept loop, one task per client connection
//! ([`crate::conn`]) and the main loop (`holder/main_loop.rs`), which alone changes the
//! agent's lifecycle (exit, restart, remove, grace period; starting the program is
//! `holder/program.rs`). The terminal's threads and the model thread feed shared state
//! guarded by std mutexes, which are never held across an `.await`.

use crate::agent::{AgentError, ExitInfo};
use crate::dirs::RuntimeDir;
use crate::hold::Holds;
use crate::model::ModelHandle;
use crate::osc7501::{self, Found, Scanner, Terminator};
use crate::ring::Ring;
use crate::spec::HolderSpec;
use crate::sync::lock;
use crate::terminal::Terminal;
use crate::tmux_pane::TmuxError;
use paddock_proto::program_status::ProgramStatus;
use paddock_proto::{
    ClientId, ErrorCode, ErrorPayload, Notification, SessionInfo, SessionState, Signal, Size,
};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How long a restart waits after TERM before it sends KILL.
mod main_loop;
mod program;

use main_loop::serve;

const RESTART_KILL_AFTER: Duration = Duration::from_secs(3);
/// How long the holder waits for clients to read their `closing` notice before it exits.
const CLOSE_FLUSH: Duration = Duration::from_secs(1);

/// Why a holder could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum HolderError {
    #[error(transparent)]
    Dir(#[from] crate::dirs::DirError),
    #[error("session id {0} is already in use by a running holder; pick another id")]
    IdInUse(String),
    #[error("cannot listen on {path}: {source}")]
    Listen {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Tmux(#[from] TmuxError),
    #[error("cannot start the holder's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("invalid terminal size {0}: use 2..=1000 columns and 1..=500 rows")]
    Size(Size),
}

/// What a new holder reports once its agent runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ready {
    pub id: String,
    pub pid: u32,
    pub holder_pid: u32,
}

/// State shared by the main loop, the client tasks and the PTY threads.
pub(crate) struct Shared {
    pub spec: HolderSpec,
    pub dir: RuntimeDir,
    pub ring: Arc<Mutex<Ring>>,
    /// The clients the agent waits for (backpressure; PTY sessions only).
    pub holds: Arc<Holds>,
    /// The ring's end offset, published after every append.
    pub end_tx: watch::Sender<u64>,
    /// Input writes from streaming clients (a person typing), for `typed` notifications.
    pub typed_tx: watch::Sender<u64>,
    pub model: ModelHandle,
    pub info: Mutex<SessionInfo>,
    pub events: broadcast::Sender<Notification>,
    /// The running terminal; `None` once the agent has exited.
    pub terminal: Mutex<Option<Terminal>>,
    /// A tmux bridge: the terminal's size is tmux's, never a client's.
    pub bridge: bool,
    /// The read-write client whose size the terminal has (the most recently active one).
    pub active_writer: Mutex<Option<ClientId>>,
    pub streaming: AtomicU32,
    /// When the program last printed, in milliseconds since the Unix epoch (0: never), for
    /// `last_output_at`: a supervisor adopting the session later still knows it printed.
    last_output_ms: AtomicU64,
    next_client: AtomicU64,
    pub cmds: mpsc::UnboundedSender<Cmd>,
    /// Finds the program's OSC 7501 queries and reports in its output (the reader's alone).
    scanner: Mutex<Scanner>,
    /// A query that came before the terminal was stored, answered once it is (guarded by
    /// `terminal`'s lock: taken and set only while it is held).
    unanswered: Mutex<Option<Terminator>>,
    /// The program's own record (OSC 7501), for `program_status` notifications.
    pub status_tx: watch::Sender<Option<ProgramStatus>>,
}

/// How the main loop answers a client's request.
pub(crate) type Reply = oneshot::Sender<Result<(), ErrorPayload>>;

/// Requests to the main loop, the only place that changes the agent's lifecycle.
pub(crate) enum Cmd {
    Exited {
        generation: u32,
        exit: ExitInfo,
    },
    Restart(oneshot::Sender<Result<(), ErrorPayload>>),
    Remove {
        force: bool,
        reply: oneshot::Sender<Result<(), ErrorPayload>>,
        /// Fired once the answer is queued for the client, so the answer reaches it before
        /// the `closing` notice does.
        answered: oneshot::Receiver<()>,
    },
}

impl Shared {
    pub fn next_client_id(&self) -> ClientId {
        ClientId(self.next_client.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Appends agent output to the ring and wakes clients and the model. Runs on the
    /// terminal's reader thread; never blocks on a client.
    fn push_output(&self, data: &[u8]) {
        let mut found = Vec::new();
        let data = lock(&self.scanner).feed(data, &mut found);
        for f in found {
            self.program_said(f);
        }
        if data.is_empty() {
            return;
        }
        let ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.last_output_ms.store(ms, Ordering::Relaxed);
        self.push_to_ring(&data);
    }

    /// Acts on what the program said to its terminal with OSC 7501: answers a query at once
    /// (before any client's terminal can answer the DA1 request that follows it, which the
    /// pinned Claude Code takes as "unanswered"), keeps and announces its record.
    fn program_said(&self, found: Found) {
        let status = match found {
            Found::Query(t) => {
                let terminal = lock(&self.terminal);
                match terminal.as_ref() {
                    Some(terminal) => answer(terminal, t),
                    None => *lock(&self.unanswered) = Some(t),
                }
                return;
            }
            Found::Report(status) if status.id.is_some() => {
                tracing::debug!(id = ?status.id, "the program reported a child record (OSC 7501); Paddock keeps only the program's own record");
                return;
            }
            Found::Report(mut status) => {
                status.at = now_rfc3339();
                Some(status)
            }
            Found::Clear { id: Some(_) } => return,
            Found::Clear { id: None } => None,
            Found::Dropped(why) => {
                tracing::debug!(%why, "dropped a status report (OSC 7501) that breaks the protocol; the program's state stays as it was");
                return;
            }
        };
        lock(&self.info).program_status = status.clone();
        self.status_tx.send_replace(status);
    }

    /// Answers a query that came before the terminal was stored; call with `terminal` set
    /// and its lock held by the caller (`terminal`).
    fn answer_late(&self, terminal: &Terminal) {
        if let Some(t) = lock(&self.unanswered).take() {
            answer(terminal, t);
        }
    }

    /// Appends bytes the program did not print just now (a tmux pane's screen redrawn at
    /// the start of a bridge).
    fn push_to_ring(&self, data: &[u8]) {
        let end = {
            let mut ring = lock(&self.ring);
            ring.push(data);
            ring.end()
        };
        self.end_tx.send_replace(end);
        self.model.kick();
    }

    /// The session's metadata with live counters filled in.
    pub fn info(&self) -> SessionInfo {
        let mut info = lock(&self.info).clone();
        let ring = lock(&self.ring);
        info.output_end = ring.end();
        info.ring_start = ring.start();
        info.ring_capacity = ring.capacity() as u64;
        info.clients = self.streaming.load(Ordering::Relaxed);
        info.last_output_at = match self.last_output_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                humantime::format_rfc3339_millis(
                    SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
                )
                .to_string(),
            ),
        };
        info
    }

    pub fn is_running(&self) -> bool {
        lock(&self.info).state == SessionState::Running
    }

    /// Writes `<id>.json` atomically (a reader never sees half a file).
    pub fn write_meta(&self) {
        let info = self.info();
        let path = self.dir.meta_path(&info.id);
        let tmp = path.with_extension("json.tmp");
        let result = serde_json::to_vec_pretty(&info)
            .map_err(std::io::Error::other)
            .and_then(|json| std::fs::write(&tmp, json))
            .and_then(|_| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = result {
            tracing::error!(path = %path.display(), error = %e, "cannot write the session's metadata file; `paddock ls` may show stale data");
        }
    }

    /// Applies `size` to the terminal and the model if it differs, and tells every client.
    /// A tmux bridge ignores `size` and follows its pane instead.
    pub fn resize(&self, size: Size) -> Result<(), ErrorPayload> {
        if self.bridge {
            self.follow_own_size();
            return Ok(());
        }
        if !size.is_valid() {
            return Err(ErrorPayload::new(
                ErrorCode::InvalidSize,
                format!("invalid terminal size {size}: use 2..=1000 columns and 1..=500 rows"),
            ));
        }
        {
            let mut info = lock(&self.info);
            if info.size == size {
                return Ok(());
            }
            let terminal = lock(&self.terminal);
            if let Some(terminal) = terminal.as_ref() {
                terminal
                    .resize(size)
                    .map_err(|e| ErrorPayload::new(ErrorCode::Os, e.to_string()))?;
            }
            info.size = size;
            let at = lock(&self.ring).end();
            self.model.resize(at, size);
        }
        let _ = self.events.send(Notification::Resized { size });
        self.write_meta();
        Ok(())
    }

    /// For a terminal that sizes itself (a tmux pane): reads its size and, if it changed,
    /// takes it (see [`Shared::follow_size`]). Nothing for a PTY.
    pub fn follow_own_size(&self) {
        if !self.bridge {
            return;
        }
        let size = lock(&self.terminal).as_ref().and_then(Terminal::own_size);
        if let Some(size) = size {
            self.follow_size(size);
        }
    }

    /// Records a size the terminal already has: the metadata, the model (from the ring's
    /// current end) and every client learn it.
    fn follow_size(&self, size: Size) {
        {
            let mut info = lock(&self.info);
            if info.size == size || !size.is_valid() {
                return;
            }
            info.size = size;
            let at = lock(&self.ring).end();
            self.model.resize(at, size);
        }
        tracing::info!(%size, "the pane was resized");
        let _ = self.events.send(Notification::Resized { size });
        self.write_meta();
    }

    /// Makes `client` the active writer; applies its size if it has one.
    pub fn activate_writer(
        &self,
        client: ClientId,
        size: Option<Size>,
    ) -> Result<(), ErrorPayload> {
        let changed = {
            let mut active = lock(&self.active_writer);
            let changed = *active != Some(client);
            *active = Some(client);
            changed
        };
        match size {
            // A bridge's size is its pane's; it is re-read when the writer changes.
            Some(size) if changed || (!self.bridge && lock(&self.info).size != size) => {
                self.resize(size)
            }
            _ => Ok(()),
        }
    }

    pub fn signal(&self, sig: Signal) -> Result<(), ErrorPayload> {
        if !self.is_running() {
            return Err(exited_error());
        }
        let terminal = lock(&self.terminal);
        match terminal.as_ref() {
            Some(terminal) => terminal
                .signal(sig)
                .map_err(|e| ErrorPayload::new(ErrorCode::Os, e.to_string())),
            None => Err(exited_error()),
        }
    }

    /// Types `data` at once if the terminal takes it; `Ok(Some(rest))` must be queued with
    /// [`Shared::input`]; `Err` when nothing runs.
    pub fn write_now(&self, data: Vec<u8>) -> Result<Option<Vec<u8>>, ()> {
        if !self.is_running() {
            return Err(());
        }
        match lock(&self.terminal).as_ref() {
            Some(t) => Ok(t.write_now(data)),
            None => Err(()),
        }
    }

    /// The agent's input queue, if it runs.
    pub fn input(&self) -> Option<mpsc::Sender<Vec<u8>>> {
        if !self.is_running() {
            return None;
        }
        lock(&self.terminal).as_ref().map(|t| t.input().clone())
    }

    /// Stops mirroring a tmux pane that keeps running (its pipe is turned off).
    fn detach(&self) {
        // Taken out first: the lock is not held while tmux runs.
        let terminal = lock(&self.terminal).take();
        if let Some(terminal) = terminal {
            terminal.detach();
        }
    }
}

pub(crate) fn exited_error() -> ErrorPayload {
    ErrorPayload::new(
        ErrorCode::SessionExited,
        "the agent has exited; its output is still readable, but it takes no input or signals. Use `paddock restart` to start it again",
    )
}

/// Writes the reply to an OSC 7501 query to the program, ahead of anything typed later.
fn answer(terminal: &Terminal, t: Terminator) {
    if let Some(rest) = terminal.write_now(osc7501::reply(t).to_vec()) {
        if terminal.input().try_send(rest).is_err() {
            tracing::warn!("could not answer the program's status query (OSC 7501): its input queue is full; it will not report its state to Paddock");
        }
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Runs a holder for `spec` until its session ends. `ready` is called once: with the agent's
/// pid when it runs, or with the error that prevented it (then `run` returns that error too).
pub fn run(
    spec: HolderSpec,
    dir: RuntimeDir,
    ready: impl FnOnce(Result<Ready, String>),
) -> Result<(), HolderError> {
    let mut ready = Some(ready);
    let mut report = |r: Result<Ready, String>| {
        if let Some(f) = ready.take() {
            f(r)
        }
    };
    let result = start_and_serve(spec, dir, &mut report);
    if let Err(e) = &result {
        report(Err(e.to_string()));
    }
    result
}

fn start_and_serve(
    spec: HolderSpec,
    dir: RuntimeDir,
    report: &mut dyn FnMut(Result<Ready, String>),
) -> Result<(), HolderError> {
    if !spec.size.is_valid() {
        return Err(HolderError::Size(spec.size));
    }
    if let Err(e) = crate::os::let_children_default_sigpipe() {
        tracing::warn!(error = %e, "cannot set up SIGPIPE handling; agents will start with SIGPIPE ignored");
    }
    let socket_path = dir.socket_path(&spec.id);
    if socket_path.exists() {
        if std::os::unix::net::UnixStream::connect(&socket_path).is_ok() {
            return Err(HolderError::IdInUse(spec.id.to_string()));
        }
        tracing::info!(path = %socket_path.display(), "removing the stale socket of a dead holder");
        let _ = std::fs::remove_file(&socket_path);
    }
    let std_listener = std::os::unix::net::UnixListener::bind(&socket_path).map_err(|source| {
        HolderError::Listen {
            path: socket_path.clone(),
            source,
        }
    })?;
    // The directory is 0700 already; the socket is made 0600 as well.
    let _ = std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o600));
    std_listener
        .set_nonblocking(true)
        .map_err(|source| HolderError::Listen {
            path: socket_path.clone(),
            source,
        })?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(HolderError::Runtime)?;
    let result = rt.block_on(serve(spec, dir.clone(), std_listener, report));
    if result.is_err() {
        let _ = std::fs::remove_file(&socket_path);
    }
    result
}
