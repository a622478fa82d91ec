//! Control actions on agents (003 §3.3.2), written once for every client: send a message,
//! interrupt (with feedback), pause and resume, and answers to permission requests. The CLI's
//! local socket and the endpoint call these.

use crate::supervisor::Handle;
use paddock_host::client::{Client, ClientError};
use paddock_proto::agent::{AgentState, AnswerChannel, Control, Decision, PermissionRequest};
use paddock_proto::supervisor::{Backend, SessionView};
use paddock_proto::{ErrorCode, ErrorPayload, Hello, Mode, Request, Response, Signal};
use std::time::Duration;

/// How long typed text has to show on the screen before Enter is pressed anyway.
const ECHO_WAIT: Duration = Duration::from_secs(3);
/// Empties the input line of the agents that keep a composer (Ctrl-U).
const CLEAR_LINE: &[u8] = b"\x15";
/// How many times keys answering a prompt on the screen are typed before giving up.
const ANSWER_TRIES: usize = 3;
/// How long a prompt answered by keys has to leave the screen before the keys are typed again.
const ANSWER_WAIT: Duration = Duration::from_millis(700);

/// How long a request announced before its prompt was drawn (Gemini CLI's hook comes first)
/// waits for the prompt before its keys are typed anyway.
const PROMPT_WAIT: Duration = Duration::from_secs(5);

/// How long an interrupted agent has to stop before a feedback message is typed anyway.
const INTERRUPT_SETTLE: Duration = Duration::from_secs(5);
/// Between typing a message and submitting it: terminal UIs that take fast input as a paste
/// would otherwise read the Enter as a newline in the message.
const SUBMIT_PAUSE: Duration = Duration::from_millis(150);
/// Largest message typed into an agent.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Why a control action failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no session `{0}`; `paddock ls` lists them")]
    NotFound(String),
    #[error("`{0}` matches several sessions ({1}); use the id")]
    Ambiguous(String, String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{name} has exited; there is nothing to {action}")]
    Exited { name: String, action: &'static str },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Decide(#[from] crate::permissions::DecideError),
    #[error("cannot reach {name}'s terminal: {source}")]
    Holder { name: String, source: ClientError },
    #[error("cannot signal {name} (pid {pid}): {reason}")]
    Os {
        name: String,
        pid: u32,
        reason: String,
    },
}

impl ControlError {
    /// The error as the wire says it.
    pub fn payload(&self) -> ErrorPayload {
        use crate::permissions::DecideError as D;
        let code = match self {
            ControlError::NotFound(_) | ControlError::Decide(D::NotFound(_)) => ErrorCode::NotFound,
            ControlError::Ambiguous(..) | ControlError::Invalid(_) => ErrorCode::Invalid,
            ControlError::Decide(D::Invalid(_)) => ErrorCode::Invalid,
            ControlError::Decide(D::AlreadyDecided { .. } | D::Withdrawn { .. }) => {
                ErrorCode::AlreadyDecided
            }
            ControlError::Unsupported(_) => ErrorCode::Unsupported,
            ControlError::Exited { .. } => ErrorCode::SessionExited,
            ControlError::Holder { .. } | ControlError::Os { .. } => ErrorCode::Os,
        };
        ErrorPayload::new(code, self.to_string())
    }
}

/// Finds a session by id, id prefix or name.
pub fn find(handle: &Handle, query: &str) -> Result<SessionView, ControlError> {
    let all = handle.sessions();
    if let Some(v) = all.iter().find(|v| v.id.as_str() == query) {
        return Ok(v.clone());
    }
    let matches: Vec<&SessionView> = all
        .iter()
        .filter(|v| v.name == query || v.id.as_str().starts_with(query))
        .collect();
    match matches.as_slice() {
        [] => Err(ControlError::NotFound(query.to_owned())),
        [one] => Ok((*one).clone()),
        many => {
            // Paddock's own session of that name (names are unique among them) wins over a
            // process found elsewhere that is named after its program; the live one over
            // ended ones.
            let own: Vec<_> = many
                .iter()
                .filter(|v| v.backend == Backend::Holder && v.name == query)
                .collect();
            if let [one] = own.as_slice() {
                return Ok((**one).clone());
            }
            let live: Vec<_> = many.iter().filter(|v| v.is_running()).collect();
            if let [one] = live.as_slice() {
                return Ok((**one).clone());
            }
            Err(ControlError::Ambiguous(
                query.to_owned(),
                many.iter()
                    .map(|v| v.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ))
        }
    }
}

/// The running session named `query`, for a control action `action` by `by` (logged).
pub(crate) fn running(
    handle: &Handle,
    query: &str,
    action: &'static str,
    by: &str,
) -> Result<SessionView, ControlError> {
    let view = find(handle, query)?;
    if !view.is_running() {
        return Err(ControlError::Exited {
            name: view.name.clone(),
            action,
        });
    }
    tracing::info!(session = %view.id, action, by, "control action");
    Ok(view)
}

/// Runs a control action on the session named `query`.
pub async fn control(
    handle: &Handle,
    query: &str,
    action: Control,
    by: &str,
) -> Result<SessionView, ControlError> {
    let view = running(handle, query, action.name(), by)?;
    match action {
        Control::Message {
            text,
            timeout_ms,
            typed,
        } => {
            let how = crate::delivery::How::new(timeout_ms, typed)?;
            return crate::delivery::deliver(handle, &view, &text, how)
                .await
                .map(|receipt| receipt.session);
        }
        Control::Interrupt { message } => {
            if let Some(m) = &message {
                check_message(m)?;
            }
            let mut client = terminal(handle, &view).await?;
            let keys =
                crate::agents::adapter(view.agent.as_deref(), &handle.config().agents.generic)
                    .interrupt_keys();
            client.send_input(keys).await.map_err(holder(&view))?;
            if let Some(m) = message {
                wait_not_working(handle, &view).await;
                // Claude Code puts the interrupted prompt back in its composer: empty it, so
                // the feedback goes alone.
                client.send_input(CLEAR_LINE).await.map_err(holder(&view))?;
                type_message(&mut client, &view, &m).await?;
            }
        }
        Control::Pause => {
            signal(handle, &view, Signal::Stop).await?;
            handle.registry().set_paused(&view.id, true);
        }
        Control::Resume => {
            signal(handle, &view, Signal::Cont).await?;
            handle.registry().set_paused(&view.id, false);
        }
    }
    Ok(view)
}

pub(crate) fn check_message(text: &str) -> Result<(), ControlError> {
    if text.trim().is_empty() {
        return Err(ControlError::Invalid(
            "the message is empty; write what the agent should do".into(),
        ));
    }
    if text.len() > MAX_MESSAGE {
        return Err(ControlError::Invalid(format!(
            "the message is {} bytes, more than the {MAX_MESSAGE} a terminal prompt takes; send a shorter one or a file path",
            text.len()
        )));
    }
    Ok(())
}

pub(crate) fn holder(view: &SessionView) -> impl Fn(ClientError) -> ControlError + '_ {
    move |source| ControlError::Holder {
        name: view.name.clone(),
        source,
    }
}

/// A read-write connection to the session's terminal (its holder, or the bridge of its tmux
/// pane).
pub(crate) async fn terminal(handle: &Handle, view: &SessionView) -> Result<Client, ControlError> {
    if view.backend == Backend::External {
        return Err(ControlError::Unsupported(format!(
            "{} runs in a terminal Paddock cannot reach (pid {}); only pause, resume and signals work on it. Start agents with `paddock run` (or in tmux) to type into them",
            view.name, view.pid
        )));
    }
    // A Claude Code background agent's terminal is opened on first use (`claude attach`).
    if view.backend == Backend::ClaudeBg {
        handle
            .claude_bg(&view.id, paddock_proto::BgAction::Open)
            .await
            .map_err(|e| ControlError::Unsupported(e.to_string()))?;
    }
    let mut hello = Hello::control(Mode::ReadWrite);
    hello.client_name = Some("control".into());
    Client::connect(&handle.runtime_dir().socket_path(&view.id), hello)
        .await
        .map_err(holder(view))
}

/// Types `text` and submits it. Several lines go as one bracketed paste, so that they stay
/// one message. Returns where the text showed before Enter, if it did.
pub(crate) async fn type_message(
    client: &mut Client,
    view: &SessionView,
    text: &str,
) -> Result<Option<Echo>, ControlError> {
    Ok(type_and_submit(client, view, text, false).await?.echo)
}

/// What the screen showed when Enter was pressed.
pub(crate) struct Typed {
    /// Where the text showed, if it did.
    pub echo: Option<Echo>,
    /// The screen's rows just before Enter.
    pub rows: Vec<String>,
}

/// Types `text` and presses Enter. As a message (`typed` false), trailing newlines go and
/// several lines go as one bracketed paste, so that they stay one message; `typed` types it
/// exactly as given (`paddock send --enter`).
pub(crate) async fn type_and_submit(
    client: &mut Client,
    view: &SessionView,
    text: &str,
    typed: bool,
) -> Result<Typed, ControlError> {
    let body = if typed {
        text
    } else {
        text.trim_end_matches(['\r', '\n'])
    };
    let bytes = if !typed && body.contains('\n') {
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.as_bytes().to_vec()
    };
    client.send_input(&bytes).await.map_err(holder(view))?;
    // Enter alone, once the text shows: TUIs that get text and Enter together take them as a
    // paste and the Enter as a newline.
    let (echo, rows) = wait_for_echo(client, view, body).await?;
    tokio::time::sleep(SUBMIT_PAUSE).await;
    client.send_input(b"\r").await.map_err(holder(view))?;
    // The holder has written the input once it answers a request sent after it.
    client.request(Request::Info).await.map_err(holder(view))?;
    Ok(Typed { echo, rows })
}

/// Where typed text showed on the screen: the end of its last line, and its row counted from
/// the bottom (an agent's input box stays at the bottom while its transcript grows above).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Echo {
    pub tail: String,
    pub row_from_bottom: usize,
}

impl Echo {
    /// Whether `rows` still show the text where it was typed.
    pub fn still_in(&self, rows: &[String]) -> bool {
        rows.len()
            .checked_sub(self.row_from_bottom + 1)
            .and_then(|i| rows.get(i))
            .is_some_and(|row| row.contains(&self.tail))
    }

    /// Whether something was written below the text's row since `before` (a shell's
    /// command printed, or it drew its next prompt): the program read the line.
    pub fn answered_below(&self, before: &[String], now: &[String]) -> bool {
        let Some(row) = before.len().checked_sub(self.row_from_bottom + 1) else {
            return false;
        };
        if before.len() != now.len() {
            return false;
        }
        let below = |rows: &[String]| -> Vec<String> {
            rows.iter()
                .skip(row + 1)
                .map(|r| r.trim_end().to_owned())
                .collect()
        };
        below(before) != below(now)
    }
}

/// Waits until the screen shows the end of `text` (the program has drawn what was typed),
/// or [`ECHO_WAIT`] passed; says where it showed, with the last screen seen.
async fn wait_for_echo(
    client: &mut Client,
    view: &SessionView,
    text: &str,
) -> Result<(Option<Echo>, Vec<String>), ControlError> {
    let last_line = text.lines().last().unwrap_or_default().trim();
    let tail: String = {
        let chars: Vec<char> = last_line.chars().collect();
        chars[chars.len().saturating_sub(16)..].iter().collect()
    };
    let mut seen = Vec::new();
    if tail.is_empty() {
        if let Response::Screen { rows, .. } = client
            .request(Request::Screen)
            .await
            .map_err(holder(view))?
        {
            seen = rows;
        }
        return Ok((None, seen));
    }
    let deadline = tokio::time::Instant::now() + ECHO_WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Response::Screen { rows, .. } = client
            .request(Request::Screen)
            .await
            .map_err(holder(view))?
        {
            if let Some(i) = rows.iter().rposition(|r| r.contains(&tail)) {
                let echo = Echo {
                    row_from_bottom: rows.len() - 1 - i,
                    tail,
                };
                return Ok((Some(echo), rows));
            }
            // The text wrapped onto the next row.
            let joined: String = rows.iter().map(|r| r.trim_end()).collect();
            if joined.contains(&tail) {
                return Ok((None, rows));
            }
            seen = rows;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    Ok((None, seen))
}

/// Waits (a little) for an interrupted agent to stop working.
async fn wait_not_working(handle: &Handle, view: &SessionView) {
    let mut events = handle.bus().subscribe();
    let stopped = |v: &SessionView| v.status.state != AgentState::Working;
    if handle.registry().get(&view.id).is_some_and(|v| stopped(&v)) {
        // Give the interrupt a moment to land even when the state already says so.
        tokio::time::sleep(Duration::from_millis(300)).await;
        return;
    }
    let _ =
        tokio::time::timeout(INTERRUPT_SETTLE, async {
            loop {
                match events.recv().await {
                    crate::events::Received::Event(crate::events::Event::SessionUpdate {
                        session,
                    }) if session.id == view.id && stopped(&session) => return,
                    crate::events::Received::Closed => return,
                    _ => {}
                }
            }
        })
        .await;
}

/// Sends a signal to the session's agent: through its holder, or straight to an external
/// process's group.
pub async fn signal(handle: &Handle, view: &SessionView, sig: Signal) -> Result<(), ControlError> {
    match view.backend {
        Backend::External | Backend::ClaudeBg => signal_process(view, sig),
        Backend::Holder | Backend::Tmux => {
            let mut client = terminal(handle, view).await?;
            client
                .request(Request::Signal { signal: sig })
                .await
                .map_err(holder(view))?;
            Ok(())
        }
    }
}

fn signal_process(view: &SessionView, sig: Signal) -> Result<(), ControlError> {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    let s = paddock_host::to_nix(sig);
    let pid = i32::try_from(view.pid).map_err(|_| ControlError::Os {
        name: view.name.clone(),
        pid: view.pid,
        reason: "not a valid pid".into(),
    })?;
    kill(Pid::from_raw(pid), s).map_err(|e| match e {
        // Gone between the last look and now: the session has ended.
        nix::Error::ESRCH => ControlError::Exited {
            name: view.name.clone(),
            action: match sig {
                Signal::Stop => "pause",
                Signal::Cont => "resume",
                _ => "signal",
            },
        },
        e => ControlError::Os {
            name: view.name.clone(),
            pid: view.pid,
            reason: e.desc().to_owned(),
        },
    })
}

/// Answers a permission request: the first answer wins. A request that came by hook is
/// answered through the waiting hook; one seen on the screen by typing into the prompt.
pub async fn decide(
    handle: &Handle,
    id: &str,
    decision: Decision,
    by: &str,
) -> Result<PermissionRequest, ControlError> {
    let request = handle.permissions().decide(id, decision.clone(), by)?;
    if request.channel == AnswerChannel::Terminal {
        let view = handle
            .registry()
            .get(&request.session)
            .ok_or_else(|| ControlError::NotFound(request.session.to_string()))?;
        let mut client = terminal(handle, &view).await?;
        answer_by_keys(handle, &mut client, &view, &decision).await?;
        // Answered: the session no longer waits on it (the hook channel clears it when the
        // waiting hook gets the decision).
        handle.registry().observe(&request.session, |m, _| {
            if m.pending_permission().is_some_and(|p| p.id == request.id) {
                m.permission(None);
            }
        });
        if let Decision::Deny {
            message: Some(message),
        } = &decision
        {
            wait_not_working(handle, &view).await;
            client.send_input(CLEAR_LINE).await.map_err(holder(&view))?;
            type_message(&mut client, &view, message).await?;
        }
    }
    Ok(request)
}

/// Types the keys that answer a prompt on the screen, and again if the prompt is still there
/// (a key landing as the dialog is drawn can be lost).
async fn answer_by_keys(
    handle: &Handle,
    client: &mut Client,
    view: &SessionView,
    decision: &Decision,
) -> Result<(), ControlError> {
    let keys = crate::agents::permission_keys(decision);
    let adapter = crate::agents::adapter(view.agent.as_deref(), &handle.config().agents.generic);
    let asking = async |client: &mut Client| -> Result<bool, ControlError> {
        Ok(
            match client
                .request(Request::Screen)
                .await
                .map_err(holder(view))?
            {
                Response::Screen { rows, .. } => matches!(
                    crate::agents::classify_screen(adapter.as_ref(), &rows),
                    crate::state::ScreenSignal::Permission { .. }
                ),
                _ => false,
            },
        )
    };
    // A hook announced the request (Gemini CLI) before its prompt was drawn: keys typed
    // before it shows would land in the agent's input instead.
    if handle.agents().facts(&view.id).is_some_and(|f| f.hooked) {
        let deadline = tokio::time::Instant::now() + PROMPT_WAIT;
        while !asking(client).await? && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for _ in 0..ANSWER_TRIES {
        client.send_input(&keys).await.map_err(holder(view))?;
        let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !asking(client).await? {
                return Ok(());
            }
        }
    }
    Err(ControlError::Unsupported(format!(
        "typed the answer into {} {ANSWER_TRIES} times but its prompt is still on the screen; answer it in its terminal (`paddock attach {}`)",
        view.name, view.id
    )))
}

/// How a [`stop`] ended the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It exited after TERM.
    Term,
    /// It ignored TERM for the grace period and was killed.
    Kill,
}

/// Stops a session's agent as `paddock stop` does: CONT (a paused agent cannot act on TERM),
/// TERM, then KILL if it still runs after `grace`. Returns once the registry shows it ended
/// (or after 5 s more past KILL, with an error).
pub async fn stop(
    handle: &Handle,
    view: &SessionView,
    grace: Duration,
) -> Result<Stopped, ControlError> {
    // A Claude Code background agent ends through `claude stop` (its own grace).
    if crate::agents::claude_bg::ops::job_id(&view.id).is_some() {
        handle
            .claude_bg(&view.id, paddock_proto::BgAction::Stop)
            .await
            .map_err(|e| ControlError::Unsupported(e.to_string()))?;
        return Ok(Stopped::Term);
    }
    let ended = |h: &Handle| h.registry().get(&view.id).is_none_or(|v| !v.is_running());
    let wait = |limit: Duration| async move {
        let mut events = handle.bus().subscribe();
        let deadline = tokio::time::Instant::now() + limit;
        while !ended(handle) {
            if tokio::time::timeout_at(deadline, events.recv())
                .await
                .is_err()
            {
                return ended(handle);
            }
        }
        true
    };
    signal(handle, view, Signal::Cont).await?;
    signal(handle, view, Signal::Term).await?;
    if wait(grace).await {
        return Ok(Stopped::Term);
    }
    signal(handle, view, Signal::Kill).await?;
    if wait(Duration::from_secs(5)).await {
        return Ok(Stopped::Kill);
    }
    Err(ControlError::Os {
        name: view.name.clone(),
        pid: view.pid,
        reason: "still running after KILL (stuck in the kernel?)".into(),
    })
}
