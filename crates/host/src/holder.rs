//! The holder process: owns one agent's PTY (or mirrors one tmux pane, see
//! [`crate::tmux_pane`]) and serves it on a unix socket until the agent has exited and the
//! grace period is over (or the session is removed).
//!
//! Shape: a current-thread tokio runtime runs the accept loop, one task per client connection
//! ([`crate::conn`]) and the main loop below, which alone changes the agent's lifecycle
//! (exit, restart, remove, grace period). The terminal's threads and the model thread feed
//! shared state guarded by std mutexes, which are never held across an `.await`.

use crate::agent::{Agent, AgentError, ExitInfo, Launch};
use crate::conn;
use crate::dirs::RuntimeDir;
use crate::hold::Holds;
use crate::model::ModelHandle;
use crate::osc7501::{self, Found, Scanner, Terminator};
use crate::ring::Ring;
use crate::spec::HolderSpec;
use crate::sync::lock;
use crate::terminal::Terminal;
use crate::tmux_pane::{TmuxError, TmuxPane};
use paddock_proto::program_status::ProgramStatus;
use paddock_proto::supervisor::Backend;
use paddock_proto::{
    ClientId, ErrorCode, ErrorPayload, Notification, SessionInfo, SessionState, Signal, Size,
    TmuxTarget,
};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::net::UnixListener;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long a restart waits after TERM before it sends KILL.
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

async fn serve(
    spec: HolderSpec,
    dir: RuntimeDir,
    std_listener: std::os::unix::net::UnixListener,
    report: &mut dyn FnMut(Result<Ready, String>),
) -> Result<(), HolderError> {
    let mut listener =
        UnixListener::from_std(std_listener).map_err(|source| HolderError::Listen {
            path: dir.socket_path(&spec.id),
            source,
        })?;
    let ring = Arc::new(Mutex::new(Ring::new(spec.ring_bytes)));
    let model = ModelHandle::spawn(ring.clone(), spec.size).map_err(HolderError::Runtime)?;
    let (cmds, mut cmd_rx) = mpsc::unbounded_channel();
    let info = SessionInfo {
        id: spec.id.clone(),
        name: spec.name.clone(),
        // An adopted process is the session's program; the takeover (reptyr) is plumbing.
        command: spec
            .adopted
            .as_ref()
            .map_or_else(|| spec.command.clone(), |a| a.command.clone()),
        args: spec
            .adopted
            .as_ref()
            .map_or_else(|| spec.args.clone(), |a| a.args.clone()),
        cwd: spec.cwd.display().to_string(),
        pid: 0,
        holder_pid: std::process::id(),
        started_at: now_rfc3339(),
        size: spec.size,
        state: SessionState::Running,
        exit_code: None,
        exit_signal: None,
        exited_at: None,
        clients: 0,
        restarts: 0,
        output_end: 0,
        last_output_at: None,
        ring_start: 0,
        ring_capacity: spec.ring_bytes as u64,
        backend: Backend::Holder,
        tmux: None,
        program_status: None,
    };
    let shared = Arc::new(Shared {
        dir: dir.clone(),
        holds: Arc::new(Holds::new(ring.clone())),
        ring,
        end_tx: watch::channel(0).0,
        typed_tx: watch::channel(0).0,
        model,
        info: Mutex::new(info),
        events: broadcast::channel(64).0,
        terminal: Mutex::new(None),
        bridge: spec.tmux.is_some(),
        active_writer: Mutex::new(None),
        streaming: AtomicU32::new(0),
        last_output_ms: AtomicU64::new(0),
        next_client: AtomicU64::new(0),
        cmds,
        scanner: Mutex::new(Scanner::new()),
        unanswered: Mutex::new(None),
        status_tx: watch::channel(None).0,
        spec,
    });

    let mut generation = 0;
    match shared.spec.tmux.clone() {
        None => start_agent(&shared, generation)?,
        Some(target) => start_bridge(&shared, generation, &target)?,
    }
    shared.write_meta();
    report(Ok(Ready {
        id: shared.spec.id.to_string(),
        pid: lock(&shared.info).pid,
        holder_pid: std::process::id(),
    }));
    tracing::info!(pid = lock(&shared.info).pid, "agent started");
    crate::os::trim_code_pages();

    let mut conns = JoinSet::new();
    let mut grace_deadline: Option<Instant> = None;
    let mut kill_deadline: Option<Instant> = None;
    let mut pending_restart: Vec<Reply> = Vec::new();
    let mut pending_remove: Option<(Reply, oneshot::Receiver<()>)> = None;
    // A bridge stopped with SIGTERM turns its pipe off and goes; the pane runs on. (A PTY
    // holder keeps SIGTERM's default: its agent gets SIGHUP when the PTY closes.)
    let mut sigterm = if shared.bridge {
        Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(HolderError::Runtime)?,
        )
    } else {
        None
    };

    // The socket comes back if the runtime directory is removed (crate::rebind).
    let mut socket_guard = crate::rebind::SocketGuard::new(dir.socket_path(&shared.spec.id));
    let mut socket_tick = tokio::time::interval(crate::rebind::CHECK_EVERY);
    let mut rebind_failing = false;
    let close_reason = loop {
        let far = Instant::now() + Duration::from_secs(86400 * 365);
        tokio::select! {
            _ = socket_tick.tick() => match socket_guard.check(&dir).and_then(|l| l.map(UnixListener::from_std).transpose()) {
                Ok(None) => {}
                Ok(Some(new)) => {
                    listener = new;
                    rebind_failing = false;
                    shared.write_meta();
                    tracing::warn!(path = %socket_guard.path().display(), "the session's socket was removed (with the runtime directory?); it is bound again and clients can attach");
                }
                Err(e) => {
                    if !rebind_failing {
                        tracing::error!(path = %socket_guard.path().display(), error = %e, "the session's socket was removed and cannot be bound again; the session keeps running but cannot be attached until the runtime directory is usable (tried again every few seconds)");
                    }
                    rebind_failing = true;
                }
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    conns.spawn(async move { conn::serve(shared, stream).await });
                }
                Err(e) => tracing::warn!(error = %e, "cannot accept a client connection"),
            },
            Some(joined) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = joined {
                    tracing::error!(error = %e, "a client task failed; other clients are unaffected");
                }
            }
            Some(cmd) = cmd_rx.recv() => match cmd {
                Cmd::Exited { generation: g, exit } => {
                    if g != generation {
                        continue;
                    }
                    on_exit(&shared, &exit);
                    kill_deadline = None;
                    if let Some((reply, answered)) = pending_remove.take() {
                        confirm_removal(reply, answered).await;
                        break "the session was removed".to_owned();
                    }
                    if !pending_restart.is_empty() {
                        generation += 1;
                        let result = restart(&shared, generation);
                        for reply in pending_restart.drain(..) {
                            let _ = reply.send(result.clone());
                        }
                        if result.is_ok() {
                            continue;
                        }
                    }
                    grace_deadline = Some(Instant::now() + Duration::from_secs(shared.spec.grace_secs));
                }
                Cmd::Restart(reply) if shared.spec.adopted.is_some() => {
                    let _ = reply.send(Err(ErrorPayload::new(
                        ErrorCode::Unsupported,
                        format!(
                            "session {} holds a program Paddock adopted and did not start, so it cannot start it again; stop it and start it anew with `paddock run`",
                            shared.spec.id
                        ),
                    )));
                }
                Cmd::Restart(reply) if shared.bridge => {
                    let _ = reply.send(Err(ErrorPayload::new(
                        ErrorCode::Unsupported,
                        format!(
                            "session {} mirrors a tmux pane, whose program Paddock did not start and cannot restart; restart it in tmux (e.g. `tmux respawn-pane -k`), then bridge the pane again",
                            shared.spec.id
                        ),
                    )));
                }
                Cmd::Restart(reply) => {
                    if shared.is_running() {
                        pending_restart.push(reply);
                        if kill_deadline.is_none() {
                            let _ = shared.signal(Signal::Cont);
                            let _ = shared.signal(Signal::Term);
                            kill_deadline = Some(Instant::now() + RESTART_KILL_AFTER);
                        }
                    } else {
                        generation += 1;
                        let result = restart(&shared, generation);
                        if result.is_ok() {
                            grace_deadline = None;
                        }
                        let _ = reply.send(result);
                    }
                }
                Cmd::Remove { force, reply, answered } => {
                    if !shared.is_running() {
                        confirm_removal(reply, answered).await;
                        break "the session was removed".to_owned();
                    } else if force {
                        let _ = shared.signal(Signal::Kill);
                        pending_remove = Some((reply, answered));
                    } else if shared.bridge {
                        // Nothing dies when a bridge goes: stop mirroring, leave the pane.
                        shared.detach();
                        confirm_removal(reply, answered).await;
                        break "the session was removed; the tmux pane keeps running".to_owned();
                    } else {
                        let _ = reply.send(Err(ErrorPayload::new(
                            ErrorCode::SessionRunning,
                            "the agent is still running; stop it first (`paddock stop`) or remove it with --force",
                        )));
                    }
                }
            },
            _ = tokio::time::sleep_until(kill_deadline.unwrap_or(far)), if kill_deadline.is_some() => {
                tracing::warn!("the agent ignored TERM for {RESTART_KILL_AFTER:?}; sending KILL");
                let _ = shared.signal(Signal::Kill);
                kill_deadline = None;
            }
            _ = tokio::time::sleep_until(grace_deadline.unwrap_or(far)), if grace_deadline.is_some() => {
                break format!("the agent exited {}s ago and the grace period is over", shared.spec.grace_secs);
            }
            Some(()) = recv_signal(&mut sigterm) => {
                shared.detach();
                break "the bridge was stopped (SIGTERM); the tmux pane keeps running".to_owned();
            }
        }
    };

    tracing::info!(reason = %close_reason, "closing the session");
    let _ = std::fs::remove_file(dir.socket_path(&shared.spec.id));
    let _ = shared.events.send(Notification::Closing {
        reason: close_reason,
    });
    let _ = tokio::time::timeout(CLOSE_FLUSH, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    dir.remove_session_files(&shared.spec.id);
    Ok(())
}

/// The next delivery of `signal`, or never when there is none.
async fn recv_signal(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Answers a removal and waits (briefly) until the answer is queued for its client.
async fn confirm_removal(
    reply: oneshot::Sender<Result<(), ErrorPayload>>,
    answered: oneshot::Receiver<()>,
) {
    if reply.send(Ok(())).is_ok() {
        let _ = tokio::time::timeout(CLOSE_FLUSH, answered).await;
    }
}

/// Spawns the agent for `generation` and records its pid.
fn start_agent(shared: &Arc<Shared>, generation: u32) -> Result<(), AgentError> {
    let spec = &shared.spec;
    let mut env = vec![
        ("PADDOCK_SESSION_ID".to_owned(), spec.id.to_string()),
        ("PADDOCK_SESSION_NAME".to_owned(), spec.name.clone()),
    ];
    if std::env::var_os("TERM").is_none_or(|t| t.is_empty() || t == "dumb") {
        env.push(("TERM".to_owned(), "xterm-256color".to_owned()));
    }
    env.extend(spec.env.iter().cloned());
    let size = lock(&shared.info).size;
    let launch = Launch {
        command: spec.command.clone(),
        args: spec.args.clone(),
        cwd: spec.cwd.clone(),
        env,
        size,
    };
    // A new program: the last one's unfinished sequence and record are not its own.
    *lock(&shared.scanner) = Scanner::new();
    lock(&shared.info).program_status = None;
    shared.status_tx.send_if_modified(|s| s.take().is_some());
    let out = shared.clone();
    let cmds = shared.cmds.clone();
    let mut agent = Agent::spawn(
        &launch,
        Some(shared.holds.clone()),
        move |data| out.push_output(data),
        move |exit| {
            let _ = cmds.send(Cmd::Exited { generation, exit });
        },
    )?;
    if let Some(adopted) = &spec.adopted {
        agent.also_signal(adopted.pid);
    }
    let terminal = Terminal::Pty(agent);
    // An adopted process is the session's pid: its tree is what the supervisor measures and
    // recognises (the takeover program is not its parent).
    let pid = spec
        .adopted
        .as_ref()
        .map_or_else(|| terminal.pid(), |a| a.pid);
    {
        let mut slot = lock(&shared.terminal);
        shared.answer_late(&terminal);
        *slot = Some(terminal);
    }
    let mut info = lock(&shared.info);
    info.pid = pid;
    info.state = SessionState::Running;
    info.exit_code = None;
    info.exit_signal = None;
    info.exited_at = None;
    Ok(())
}

/// Starts mirroring the tmux pane `target`: its pipe, a redraw of its screen as the ring's
/// first bytes, then its output.
fn start_bridge(
    shared: &Arc<Shared>,
    generation: u32,
    target: &TmuxTarget,
) -> Result<(), HolderError> {
    let connected = TmuxPane::connect(target, &shared.dir.fifo_path(&shared.spec.id))?;
    let pane = &connected.state;
    {
        let mut info = lock(&shared.info);
        info.backend = Backend::Tmux;
        info.tmux = Some(TmuxTarget {
            socket: target.socket.clone(),
            pane: pane.pane_id.clone(),
        });
        info.pid = pane.pid;
        info.size = pane.size;
        if info.command.is_empty() {
            info.command = pane.command.clone();
        }
        if info.cwd.is_empty() {
            info.cwd = pane.cwd.clone();
        }
    }
    // Nothing is in the ring yet: the model takes the pane's size before the redraw.
    shared.model.resize(0, pane.size);
    shared.push_to_ring(&connected.seed);
    let out = shared.clone();
    let sized = shared.clone();
    let cmds = shared.cmds.clone();
    let pane = connected.start(
        move |data| out.push_output(data),
        move |size| sized.follow_size(size),
        move |exit| {
            let _ = cmds.send(Cmd::Exited { generation, exit });
        },
    )?;
    tracing::info!(pane = pane.pane_id(), socket = %target.socket.display(), "mirroring a tmux pane");
    {
        let mut slot = lock(&shared.terminal);
        let terminal = Terminal::Tmux(pane);
        shared.answer_late(&terminal);
        *slot = Some(terminal);
    }
    Ok(())
}

fn on_exit(shared: &Shared, exit: &ExitInfo) {
    {
        let mut info = lock(&shared.info);
        info.state = SessionState::Exited;
        info.exit_code = exit.code;
        info.exit_signal = exit.signal.clone();
        info.exited_at = Some(now_rfc3339());
    }
    // Dropping the terminal closes its input queue and the PTY master (or the pane's pipe,
    // which runs tmux: not under the lock).
    let terminal = lock(&shared.terminal).take();
    drop(terminal);
    tracing::info!(code = ?exit.code, signal = ?exit.signal, "agent exited");
    shared.write_meta();
    let _ = shared.events.send(Notification::Exited {
        code: exit.code,
        signal: exit.signal.clone(),
    });
}

fn restart(shared: &Arc<Shared>, generation: u32) -> Result<(), ErrorPayload> {
    start_agent(shared, generation).map_err(|e| ErrorPayload::new(ErrorCode::Os, e.to_string()))?;
    let pid = {
        let mut info = lock(&shared.info);
        info.restarts += 1;
        info.pid
    };
    tracing::info!(pid, "agent restarted");
    shared.write_meta();
    let _ = shared.events.send(Notification::Restarted { pid });
    Ok(())
}
