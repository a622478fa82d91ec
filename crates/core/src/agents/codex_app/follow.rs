//! The supervisor as a second client of each Codex session's app-server (the socket
//! `<runtime>/<id>.codex-app-server` that `launch`'s script makes). Found with the pinned
//! Codex (docs/agents-offline.md, "Codex app-server"): every client hears
//! `thread/status/changed`; a client that resumes a thread (`thread/resume`) hears its
//! turns, items and approval requests, a pending one replayed; an approval answered by any
//! client is `serverRequest/resolved` for all, and the terminal UI's dialog closes.
//!
//! So: the thread's status and turns feed the state machine as hook signals (exact), each
//! request Codex makes of its clients (approvals, its questions, permission and MCP-tool
//! requests: `protocol::approval`) opens a permission request on the hook channel (answered
//! from any device: the decision goes back as the JSON-RPC reply, in the words of its
//! kind), and one answered in Codex's terminal is withdrawn. A session whose app-server cannot be reached is read from its
//! screen meanwhile, said in the log.

use super::protocol::{self, Approval, Message, ThreadStatus};
use crate::agents::PermissionAsk;
use crate::state::HookSignal;
use crate::supervisor::Handle;
use futures_util::{SinkExt, StreamExt};
use paddock_proto::agent::{AnswerChannel, Decision};
use paddock_proto::supervisor::Backend;
use paddock_proto::SessionId;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig};

/// How often the runtime directory is looked at for new app-server sockets.
const EVERY: Duration = Duration::from_millis(250);
/// A session whose app-server could not be followed is tried again after this long.
const RETRY: Duration = Duration::from_secs(5);

/// How long a session whose app-server closed may take to end with it.
const GONE_GRACE: Duration = Duration::from_secs(3);
/// The state's reason when the app-server died under a running session.
const SERVER_GONE: &str = "Codex's app-server ended and its terminal UI cannot go on without it (it shows \"Reconnecting to server\"): restart the session with `paddock restart`";

/// Why a session's app-server could not be followed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("cannot connect to Codex's app-server at {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Codex's app-server did not speak WebSocket: {0}")]
    Handshake(tungstenite::Error),
    #[error("the connection to Codex's app-server broke: {0}")]
    Broken(tungstenite::Error),
}

/// Follows every session's app-server until shutdown.
pub async fn run(handle: Handle, mut shutdown: watch::Receiver<bool>) {
    let mut following: HashMap<SessionId, (tokio::task::JoinHandle<()>, Instant)> = HashMap::new();
    loop {
        tokio::select! {
            // The signal only ever turns on (or its sender goes): either way, stop.
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(EVERY) => {}
        }
        following.retain(|_, (task, ended)| {
            !task.is_finished() || {
                // Keep a finished one for a while, so it is not retried at once.
                ended.elapsed() < RETRY
            }
        });
        for id in handle.registry().ids(Backend::Holder) {
            if following.contains_key(&id) {
                continue;
            }
            let path = handle.runtime_dir().codex_socket_path(&id);
            if !path.exists() {
                continue;
            }
            let task = tokio::spawn(follow(handle.clone(), id.clone(), path, shutdown.clone()));
            following.insert(id, (task, Instant::now()));
        }
        for (task, ended) in following.values_mut() {
            if !task.is_finished() {
                *ended = Instant::now();
            }
        }
    }
    for (task, _) in following.values() {
        task.abort();
    }
}

async fn follow(handle: Handle, id: SessionId, path: PathBuf, shutdown: watch::Receiver<bool>) {
    let mut conn = Conn::new(handle.clone(), id.clone());
    let result = conn.serve(&path, shutdown.clone()).await;
    conn.withdraw_all();
    match result {
        Ok(()) => tracing::debug!(%id, "Codex's app-server closed"),
        Err(e) => tracing::warn!(
            %id, error = %e,
            "cannot follow this Codex session's app-server: its state comes from its screen until Paddock can (tried again in 5 s)"
        ),
    }
    if conn.connected && !*shutdown.borrow() {
        // The server closes as the session ends (its UI exited); if the session still
        // runs a moment later, the server died under Codex's terminal UI, which then only
        // waits to reconnect: say so instead of the UI's last state.
        tokio::time::sleep(GONE_GRACE).await;
        if handle.registry().get(&id).is_some_and(|v| v.is_running()) {
            tracing::warn!(%id, "Codex's app-server ended while its terminal UI runs");
            conn.signal(HookSignal::TurnFailed {
                reason: SERVER_GONE.into(),
            });
        }
    }
}

/// A decision for the request with this JSON-RPC id, and how to word it.
type Answer = (Value, protocol::Answering, Decision);

/// What woke the connection's loop.
enum Next {
    Stop,
    Decided(Answer),
    Frame(Option<Result<tungstenite::Message, tungstenite::Error>>),
}

/// What a request of ours was.
enum Asked {
    Initialize,
    Loaded,
    Resume(String),
}

#[derive(Default)]
struct Thread {
    ephemeral: bool,
    subscribed: bool,
    resuming: bool,
}

/// One connection's state.
struct Conn {
    handle: Handle,
    id: SessionId,
    next: u64,
    asked: HashMap<u64, Asked>,
    threads: HashMap<String, Thread>,
    /// The session's own thread, once known (a subscription taken, or announced as not
    /// ephemeral): other threads' statuses (the title turn's) are not the session's.
    main: Option<String>,
    in_turn: bool,
    /// Whether the WebSocket handshake was made (the server was there).
    connected: bool,
    /// Approval requests opened, by JSON-RPC id: the permission request's id.
    open: HashMap<String, String>,
    /// Decisions to send back, by JSON-RPC id (from the tasks waiting on the owner).
    decided: (
        mpsc::UnboundedSender<Answer>,
        mpsc::UnboundedReceiver<Answer>,
    ),
}

impl Conn {
    fn new(handle: Handle, id: SessionId) -> Self {
        Self {
            handle,
            id,
            next: 0,
            asked: HashMap::new(),
            threads: HashMap::new(),
            main: None,
            in_turn: false,
            connected: false,
            open: HashMap::new(),
            decided: mpsc::unbounded_channel(),
        }
    }

    async fn serve(
        &mut self,
        path: &Path,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), FollowError> {
        let stream = tokio::net::UnixStream::connect(path)
            .await
            .map_err(|source| FollowError::Connect {
                path: path.to_owned(),
                source,
            })?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(protocol::MAX_FRAME))
            .max_frame_size(Some(protocol::MAX_FRAME));
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config("ws://localhost/", stream, Some(config))
                .await
                .map_err(FollowError::Handshake)?;
        self.connected = true;
        tracing::info!(id = %self.id, "following the session's Codex app-server");
        self.handle.agents().hook_seen(&self.id, "codex", None);
        let hello = self.ask(
            Asked::Initialize,
            "initialize",
            json!({"clientInfo": {"name": "paddock", "version": env!("CARGO_PKG_VERSION")}}),
        );
        ws.send(tungstenite::Message::text(hello))
            .await
            .map_err(FollowError::Broken)?;
        loop {
            let next = tokio::select! {
                _ = shutdown.changed() => Next::Stop,
                Some(answer) = self.decided.1.recv() => Next::Decided(answer),
                frame = ws.next() => Next::Frame(frame),
            };
            let out = match next {
                Next::Stop => return Ok(()),
                Next::Decided((rpc_id, answering, decision)) => {
                    vec![protocol::reply(&rpc_id, &answering, &decision)]
                }
                Next::Frame(None | Some(Ok(tungstenite::Message::Close(_)))) => return Ok(()),
                Next::Frame(Some(Err(e))) => return Err(FollowError::Broken(e)),
                Next::Frame(Some(Ok(tungstenite::Message::Text(text)))) => {
                    self.on(protocol::parse(text.as_str()))
                }
                Next::Frame(Some(Ok(_))) => Vec::new(),
            };
            for text in out {
                ws.send(tungstenite::Message::text(text))
                    .await
                    .map_err(FollowError::Broken)?;
            }
        }
    }

    fn ask(&mut self, asked: Asked, method: &str, params: Value) -> String {
        self.next += 1;
        self.asked.insert(self.next, asked);
        protocol::request(self.next, method, params)
    }

    fn signal(&self, signal: HookSignal) {
        self.handle
            .registry()
            .observe(&self.id, |m, now| m.hook(signal, now));
    }

    /// Subscribes to a thread once (again after a refused try: a thread has no rollout to
    /// resume before its first turn).
    fn subscribe(&mut self, thread: &str) -> Option<String> {
        let t = self.threads.entry(thread.to_owned()).or_default();
        if t.ephemeral || t.subscribed || t.resuming {
            return None;
        }
        t.resuming = true;
        Some(self.ask(
            Asked::Resume(thread.to_owned()),
            "thread/resume",
            json!({"threadId": thread, "excludeTurns": true}),
        ))
    }

    /// Whether a thread is one whose state is the session's (not a side thread such as
    /// the one that writes the title).
    fn is_main(&self, thread: &str) -> bool {
        match &self.main {
            Some(main) => main == thread,
            None => !self.threads.get(thread).is_some_and(|t| t.ephemeral),
        }
    }

    fn on(&mut self, message: Message) -> Vec<String> {
        let mut out = Vec::new();
        match message {
            Message::Reply { id, result } => match (self.asked.remove(&id), result) {
                (Some(Asked::Initialize), Ok(_)) => {
                    out.push(self.ask(Asked::Loaded, "thread/loaded/list", json!({})));
                }
                (Some(Asked::Loaded), Ok(r)) => {
                    let threads: Vec<String> = r
                        .get("data")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect();
                    out.extend(threads.iter().filter_map(|t| self.subscribe(t)));
                }
                (Some(Asked::Resume(thread)), result) => {
                    let t = self.threads.entry(thread.clone()).or_default();
                    t.resuming = false;
                    match result {
                        Ok(r) => {
                            t.subscribed = true;
                            let ephemeral = r
                                .pointer("/thread/ephemeral")
                                .and_then(Value::as_bool)
                                .unwrap_or(false);
                            t.ephemeral = ephemeral;
                            if !ephemeral && self.main.is_none() {
                                self.main = Some(thread.clone());
                            }
                            tracing::debug!(id = %self.id, %thread, "subscribed to the Codex thread");
                        }
                        Err(e) => {
                            tracing::debug!(id = %self.id, %thread, error = %e, "cannot subscribe to the Codex thread yet")
                        }
                    }
                }
                (Some(_), Err(e)) => {
                    tracing::warn!(id = %self.id, error = %e, "Codex's app-server refused a request of Paddock's")
                }
                (None, _) => {}
            },
            Message::ThreadStarted { thread, ephemeral } => {
                self.threads.entry(thread.clone()).or_default().ephemeral = ephemeral;
                if !ephemeral && self.main.is_none() {
                    self.main = Some(thread.clone());
                }
                out.extend(self.subscribe(&thread));
            }
            Message::Status { thread, status } if self.is_main(&thread) => {
                out.extend(self.subscribe(&thread));
                match status {
                    ThreadStatus::Active { .. } if !self.in_turn => {
                        self.in_turn = true;
                        self.signal(HookSignal::PromptSubmitted);
                    }
                    ThreadStatus::Idle if self.in_turn => {
                        self.in_turn = false;
                        self.signal(HookSignal::TurnEnded);
                    }
                    ThreadStatus::Failed => {
                        self.in_turn = false;
                        self.signal(HookSignal::TurnFailed {
                            reason: "Codex reports a system error on its thread".into(),
                        });
                    }
                    _ => {}
                }
            }
            Message::TurnStarted { thread } if self.is_main(&thread) && !self.in_turn => {
                self.in_turn = true;
                self.signal(HookSignal::PromptSubmitted);
            }
            Message::TurnCompleted { thread, error } if self.is_main(&thread) => {
                self.in_turn = false;
                self.signal(match error {
                    Some(reason) => HookSignal::TurnFailed { reason },
                    None => HookSignal::TurnEnded,
                });
            }
            Message::ToolStarted { thread, tool } if self.is_main(&thread) => {
                self.signal(HookSignal::ToolStarted { tool });
            }
            Message::ToolFinished { thread } if self.is_main(&thread) => {
                self.signal(HookSignal::ToolFinished);
            }
            Message::Approval(a) => self.approval(a),
            Message::Resolved { rpc_id, .. } => {
                if let Some(pid) = self.open.remove(&rpc_id.to_string()) {
                    // Answered by another client (the terminal UI): no longer ours to answer.
                    // Withdrawing drops the waiter, so the waiting task clears the state.
                    self.handle
                        .permissions()
                        .withdraw(&pid, "answered in Codex's terminal");
                }
            }
            _ => {}
        }
        out
    }

    fn approval(&mut self, a: Approval) {
        let Approval {
            rpc_id,
            thread,
            tool,
            input,
            for_session,
            answering,
        } = a;
        let key = rpc_id.to_string();
        if self.open.contains_key(&key) {
            return; // replayed when the thread was resumed again
        }
        let suggestions = if for_session {
            vec![json!({"decision": "acceptForSession",
                "description": "allow it for the rest of this Codex session"})]
        } else {
            Vec::new()
        };
        let ask = PermissionAsk {
            tool: tool.to_owned(),
            input,
            suggestions,
            agent_session: Some(thread),
        };
        // A request the screen or Codex's status report opened before this connection
        // (a supervisor that just restarted) is the same prompt, guessed: the exact one
        // replaces it.
        let permissions = self.handle.permissions();
        if let Some(guess) = permissions
            .pending_for(&self.id)
            .filter(|p| p.channel == AnswerChannel::Terminal)
        {
            permissions.withdraw(
                &guess.id,
                "Codex's app-server asks this exactly: answer the request that replaces it",
            );
        }
        let timeout = self.handle.config().agents.permission_timeout;
        let (request, decided) =
            crate::hooks::open_permission(&self.handle, &self.id, &ask, timeout);
        self.open.insert(key, request.id.clone());
        let (handle, id, tx) = (self.handle.clone(), self.id.clone(), self.decided.0.clone());
        tokio::spawn(async move {
            let then = "answer it in Codex's terminal";
            if let Some(d) =
                crate::hooks::await_permission(&handle, &id, request, decided, timeout, then).await
            {
                let _ = tx.send((rpc_id, answering, d));
            }
        });
    }

    /// The app-server went away: nothing it asked can be answered through it any more.
    fn withdraw_all(&mut self) {
        for (_, pid) in self.open.drain() {
            self.handle
                .permissions()
                .withdraw(&pid, "Codex's app-server went away");
        }
    }
}
