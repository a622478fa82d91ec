//! Holder discovery: adopts every live holder in the runtime directory, at start and as new
//! ones appear, and keeps one quiet control connection to each, so exits, restarts and
//! resizes reach the registry the moment they happen (and a holder never has to be polled).

use crate::state::ScreenSignal;
use crate::supervisor::Handle;
use paddock_host::client::{Client, Event as ClientEvent};
use paddock_host::RuntimeDir;
use paddock_proto::agent::AnswerChannel;
use paddock_proto::program_status::{BlockedKind, ProgramState, ProgramStatus};
use paddock_proto::supervisor::{Backend, SessionView};
use paddock_proto::{Hello, Mode, Notification, Request, Response, SessionId, SessionInfo};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often the runtime directory is scanned for new holders.
pub const SCAN_INTERVAL: Duration = Duration::from_secs(1);

/// Watches `dir` until `shutdown` turns true.
pub async fn watch(dir: RuntimeDir, handle: Handle, mut shutdown: watch::Receiver<bool>) {
    let tracked: Arc<Mutex<HashSet<SessionId>>> = Arc::default();
    loop {
        for id in socket_ids(&dir) {
            let new = tracked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone());
            if new {
                let (dir, handle, tracked) = (dir.clone(), handle.clone(), tracked.clone());
                tokio::spawn(async move {
                    track(&dir, &handle, &id).await;
                    tracked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                });
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(SCAN_INTERVAL) => {}
            _ = handle.rescan_requested().notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Session ids that have a socket in `dir`.
fn socket_ids(dir: &RuntimeDir) -> Vec<SessionId> {
    let Ok(entries) = std::fs::read_dir(dir.path()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let stem = name.to_str()?.strip_suffix(".sock")?.to_owned();
            SessionId::parse(&stem).ok()
        })
        .collect()
}

/// The agent a holder's command runs, if it is one.
pub fn agent_of(info: &SessionInfo) -> Option<String> {
    let cmd: Vec<String> = std::iter::once(info.command.clone())
        .chain(info.args.iter().cloned())
        .collect();
    paddock_monitor::classify(&cmd, None).map(|k| k.as_str().to_owned())
}

fn view(info: &SessionInfo) -> SessionView {
    SessionView::from_holder(info, agent_of(info))
}

/// Follows one holder until it goes away: its metadata, and its screen whenever the
/// terminal prints (for the session's state).
async fn track(dir: &RuntimeDir, handle: &Handle, id: &SessionId) {
    let registry = handle.registry();
    let mut hello = Hello::control(Mode::ReadOnly);
    hello.client_name = Some("supervisor".into());
    hello.activity = true;
    let mut client = match Client::connect(&dir.socket_path(id), hello).await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%id, error = %e, "not adopting a holder that does not answer");
            return;
        }
    };
    tracing::info!(%id, pid = client.welcome.session.pid, "adopted a holder");
    registry.upsert(view(&client.welcome.session));
    // Output printed before this supervisor came counts: the program worked then, and its
    // quiet since decides between working and idle (a holder too old to say when counts as
    // printing now).
    let info = &client.welcome.session;
    let printed = info.last_output_at.as_deref().and_then(|t| {
        crate::state::instant_of(t, std::time::Instant::now(), std::time::SystemTime::now())
    });
    if printed.is_some() || info.output_end > 0 {
        registry.observe(id, |m, now| m.output(printed.unwrap_or(now)));
    }
    // What the program said about itself before this supervisor came.
    if let Some(status) = client.welcome.session.program_status.clone() {
        program_status(handle, id, Some(status));
    }
    // The first look at the screen: an agent may already wait at a prompt.
    if client.welcome.session.output_end > 0 && read_screen(handle, &mut client, id).await.is_err()
    {
        registry.remove(id);
        return;
    }
    loop {
        match client.next_event().await {
            Ok(Some(ClientEvent::Notification(n))) => match n {
                Notification::Closing { .. } => break,
                Notification::Exited { .. }
                | Notification::Restarted { .. }
                | Notification::Resized { .. } => match client.request(Request::Info).await {
                    Ok(Response::Info { session }) => registry.upsert(view(&session)),
                    _ => break,
                },
                Notification::Typed { .. } => handle
                    .notifier()
                    .presence()
                    .touch(crate::notify::presence::Seen::Terminal(id.clone())),
                Notification::ProgramStatus { status } => program_status(handle, id, status),
                Notification::Output { .. } => {
                    registry.observe(id, |m, now| m.output(now));
                    if read_screen(handle, &mut client, id).await.is_err() {
                        break;
                    }
                }
                _ => {}
            },
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    tracing::info!(%id, "holder gone");
    handle.notifier().output_rules().forget(id);
    for request in handle.permissions().list(false) {
        if &request.session == id {
            handle
                .permissions()
                .withdraw(&request.id, "the session is gone");
        }
    }
    handle.agents().forget(id);
    if let Some(t) = handle.transcripts() {
        t.forget(id);
    }
    registry.remove(id);
}

/// The input of a permission request answered by typing, whichever saw it first (the
/// program's own report or its screen): what the prompt showed, and for Bash the command,
/// as Claude Code's hooks name it.
fn typed_request_input(tool: &str, subject: Option<&str>) -> serde_json::Value {
    let mut input = serde_json::json!({ "detail": subject });
    if let (Some(subject), "Bash") = (subject, tool) {
        input["command"] = subject.into();
    }
    input
}

/// Feeds the program's own record (OSC 7501) to the state machine. A permission it reports
/// (with no hooks to carry the exact request) becomes a request answered by typing, as one
/// seen on the screen does; any other record means such a request no longer waits.
fn program_status(handle: &Handle, id: &SessionId, status: Option<ProgramStatus>) {
    let permissions = handle.permissions();
    let pending = permissions.pending_for(id);
    let hooked = handle.agents().facts(id).is_some_and(|f| f.hooked);
    let asks = status
        .as_ref()
        .filter(|s| s.state == ProgramState::Blocked && s.kind == Some(BlockedKind::Permission));
    let mut request = None;
    match (asks, &pending) {
        (Some(asks), None) if !hooked => {
            let (tool, subject) = asks
                .permission_subject()
                .unwrap_or(("tool", asks.message.as_deref().unwrap_or("")));
            let input = typed_request_input(tool, Some(subject));
            let (opened, _) = permissions.open(crate::permissions::NewRequest {
                session: id.clone(),
                agent_session: None,
                tool: tool.to_owned(),
                input,
                suggestions: Vec::new(),
                channel: AnswerChannel::Terminal,
                timeout: handle.config().agents.permission_timeout,
            });
            request = Some(Some(opened));
        }
        (None, Some(p)) if p.channel == AnswerChannel::Terminal && status.is_some() => {
            permissions.withdraw(&p.id, "answered in the terminal");
            request = Some(None);
        }
        _ => {}
    }
    handle.registry().observe(id, |m, now| {
        if let Some(request) = request {
            m.permission(request);
        }
        m.program(status, now);
    });
}

/// Reads the session's screen and feeds what it shows to the state machine. A permission
/// prompt on the screen with no request pending (an agent Paddock did not start, or whose
/// hook gave up) becomes a request answered by typing; one that left the screen is withdrawn.
async fn read_screen(
    handle: &Handle,
    client: &mut Client,
    id: &SessionId,
) -> Result<(), paddock_host::client::ClientError> {
    let rows = match client.request(Request::Screen).await? {
        Response::Screen { rows, .. } => rows,
        _ => return Ok(()),
    };
    let Some(view) = handle.registry().get(id) else {
        return Ok(());
    };
    let notifier = handle.notifier();
    for draft in notifier.output_rules().check(&view, &rows) {
        if notifier.cooldown_allows(&draft.rule, id.as_str()) {
            crate::notify::component::dispatch(handle, draft, Some(&view));
        }
    }
    let adapter = crate::agents::adapter(view.agent.as_deref(), &handle.config().agents.generic);
    let signal = crate::agents::classify_screen(adapter.as_ref(), &rows);
    let pending = handle.permissions().pending_for(id);
    let hooked = handle.agents().facts(id).is_some_and(|f| f.hooked);
    match (&signal, &pending) {
        // A prompt just answered can stay on the screen for a moment: not a new request.
        (ScreenSignal::Permission { tool, subject }, None)
            if !hooked
                && !handle
                    .permissions()
                    .answered_within(id, std::time::Duration::from_secs(2)) =>
        {
            let (request, _) = handle.permissions().open(crate::permissions::NewRequest {
                session: id.clone(),
                agent_session: None,
                tool: tool.clone().unwrap_or_else(|| "tool".into()),
                input: typed_request_input(tool.as_deref().unwrap_or("tool"), subject.as_deref()),
                suggestions: Vec::new(),
                channel: AnswerChannel::Terminal,
                timeout: handle.config().agents.permission_timeout,
            });
            handle
                .registry()
                .observe(id, |m, _| m.permission(Some(request)));
        }
        (ScreenSignal::Permission { .. }, Some(p)) => handle.agents().prompt_seen(id, &p.id),
        (ScreenSignal::Permission { .. }, None) => {}
        // The prompt the screen showed has gone (answered or cancelled in the terminal): the
        // request no longer waits, whichever way it came. A hook announces its request before
        // the prompt is drawn (Gemini CLI): that one waits until the screen has shown it.
        (ScreenSignal::Working | ScreenSignal::Prompt | ScreenSignal::Errored { .. }, Some(p))
            if (p.channel == AnswerChannel::Terminal && !hooked)
                || handle
                    .agents()
                    .facts(id)
                    .is_some_and(|f| f.prompt_seen.as_deref() == Some(p.id.as_str())) =>
        {
            handle
                .permissions()
                .withdraw(&p.id, "answered in the terminal");
            handle.registry().observe(id, |m, _| m.permission(None));
        }
        _ => {}
    }
    handle
        .registry()
        .observe(id, |m, now| m.screen(signal, now));
    Ok(())
}

/// The backend these sessions have.
pub const BACKEND: Backend = Backend::Holder;
