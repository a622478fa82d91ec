//! The recorder: writes what the supervisor learns into the store, off every hot path (the
//! store queues and commits in batches on its own thread), and keeps the store's health and
//! retention.

use crate::events::{Event, Received, Subscriber};
use crate::health::Health;
use crate::registry::Registry;
use paddock_proto::agent::{AgentState, PermissionOutcome, StateDetail};
use paddock_proto::supervisor::{HealthStatus, SessionView};
use paddock_proto::SessionId;
use paddock_store::{ActivityRecord, Level, SessionRecord, Store, UnixMs};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// How often the store's health is read.
const HEALTH_EVERY: Duration = Duration::from_secs(5);
/// How often retention runs (and once at start).
const RETENTION_EVERY: Duration = Duration::from_secs(86400);

/// A session as a store record.
pub fn record(view: &SessionView, ended: Option<UnixMs>) -> SessionRecord {
    let started = humantime::parse_rfc3339(&view.started_at)
        .map(UnixMs::from)
        .unwrap_or_else(|_| UnixMs::now());
    let mut r = SessionRecord::new(
        view.id.clone(),
        view.agent.clone().unwrap_or_else(|| "unknown".into()),
        view.backend,
        started,
    );
    r.name = Some(view.name.clone());
    r.cwd = Some(view.cwd.clone());
    r.pid = Some(view.pid);
    r.state = view.status.state.to_string();
    r.ended = ended;
    r.extra = serde_json::json!({ "command": view.command, "exit_code": view.status.exit_code });
    r
}

/// A state in words, for the activity log.
pub fn describe(d: &StateDetail) -> String {
    match d.state {
        AgentState::Working => match &d.tool {
            Some(t) => format!("working ({t})"),
            None => "working".into(),
        },
        AgentState::WaitingPermission => match &d.permission {
            Some(p) => format!("waiting for permission to run {} ({})", p.tool, p.id),
            None => match &d.tool {
                Some(t) => format!("waiting for permission to run {t}"),
                None => "waiting for permission".into(),
            },
        },
        AgentState::WaitingInput => "waiting for input".into(),
        AgentState::Errored => match &d.reason {
            Some(r) => format!("errored: {r}"),
            None => "errored".into(),
        },
        AgentState::Exited | AgentState::Completed => match (d.exit_code, &d.reason) {
            (Some(c), _) => format!("{} with code {c}", d.state),
            (None, Some(r)) => format!("{} ({r})", d.state),
            (None, None) => d.state.to_string(),
        },
        s => s.to_string(),
    }
}

/// Runs until `shutdown`, then flushes the store.
pub async fn run(
    store: Store,
    mut events: Subscriber,
    registry: Registry,
    health: Health,
    retention_days: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut known: HashMap<SessionId, SessionView> = HashMap::new();
    let mut health_tick = tokio::time::interval(HEALTH_EVERY);
    let mut retention_tick = tokio::time::interval(RETENTION_EVERY);
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Received::Event(event) => on_event(&store, &mut known, event),
                Received::Lagged(n) => {
                    tracing::warn!(missed = n, "the recorder fell behind the event bus; resyncing sessions from the registry");
                    for view in registry.list() {
                        on_event(&store, &mut known, Event::SessionUpdate { session: Box::new(view) });
                    }
                }
                Received::Closed => break,
            },
            _ = health_tick.tick() => {
                let check = store.clone();
                match tokio::task::spawn_blocking(move || check.recover_if_deleted()).await {
                    Ok(Ok(Some(done))) => tracing::error!("{done}"),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "the database file was deleted and could not be rebuilt; tried again in a few seconds");
                        health.set("database", HealthStatus::Unhealthy, format!("the database file was deleted while Paddock was running and could not be rebuilt ({e}); records stay queued in memory: free space or fix the data directory, or restart Paddock to start a fresh database"));
                        continue;
                    }
                    Err(e) => tracing::error!(error = %e, "the database check task failed"),
                }
                health.put(store.health().component());
            }
            _ = retention_tick.tick() => {
                let store = store.clone();
                let result = tokio::task::spawn_blocking(move || store.enforce_retention(SystemTime::now(), retention_days)).await;
                match result {
                    Ok(Ok(report)) => tracing::info!(?report, days = retention_days, "retention applied"),
                    Ok(Err(e)) => health.set("database", HealthStatus::Degraded, format!("retention failed: {e}")),
                    Err(e) => tracing::error!(error = %e, "the retention task failed"),
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    let flushed = tokio::task::spawn_blocking(move || store.flush()).await;
    if let Ok(Err(e)) = flushed {
        tracing::error!(error = %e, "could not write the last records before stopping; they are lost");
    }
}

fn on_event(store: &Store, known: &mut HashMap<SessionId, SessionView>, event: Event) {
    match event {
        Event::SessionUpdate { session } => {
            let previous = known.insert(session.id.clone(), (*session).clone());
            let ended = session.status.state.is_final().then(UnixMs::now);
            store.upsert_session(record(&session, ended));
            let key = |v: &SessionView| {
                (
                    v.status.state,
                    v.status.tool.clone(),
                    v.status.exit_code,
                    v.status.permission.as_ref().map(|p| p.id.clone()),
                )
            };
            let changed = previous.as_ref().map(key) != Some(key(&session));
            if changed {
                let level = match session.status.state {
                    AgentState::Errored => Level::Warn,
                    _ => Level::Info,
                };
                let message = match &previous {
                    None => format!(
                        "{} ({}) found: {}; {}",
                        session.name,
                        session.backend,
                        session.command,
                        describe(&session.status)
                    ),
                    Some(_) => format!("{}: {}", session.name, describe(&session.status)),
                };
                store.log_activity(ActivityRecord::new(
                    UnixMs::now(),
                    Some(session.id.clone()),
                    level,
                    "state",
                    message,
                ));
            }
        }
        Event::SessionRemoved { id } => {
            if let Some(view) = known.remove(&id) {
                store.upsert_session(record(&view, Some(UnixMs::now())));
                store.log_activity(ActivityRecord::new(
                    UnixMs::now(),
                    Some(id),
                    Level::Info,
                    "removed",
                    format!("{} is gone", view.name),
                ));
            }
        }
        Event::SystemAlert { component } => {
            let level = match component.status {
                HealthStatus::Healthy => Level::Info,
                HealthStatus::Degraded => Level::Warn,
                HealthStatus::Unhealthy => Level::Error,
            };
            store.log_activity(ActivityRecord::new(
                UnixMs::now(),
                None,
                level,
                "health",
                format!(
                    "{}: {:?}: {}",
                    component.name, component.status, component.message
                ),
            ));
        }
        Event::PermissionUpdate { request } => {
            let message = match &request.outcome {
                None => format!(
                    "permission request {} opened: {} {}",
                    request.id,
                    request.tool,
                    paddock_agents::claude::tools::input_summary(&request.tool, &request.input)
                ),
                Some(PermissionOutcome::Decided { decision, by, .. }) => {
                    format!(
                        "permission request {} {} by {by}",
                        request.id,
                        decision.verb()
                    )
                }
                Some(PermissionOutcome::Withdrawn { reason, .. }) => {
                    format!("permission request {} withdrawn: {reason}", request.id)
                }
            };
            store.log_activity(ActivityRecord::new(
                UnixMs::now(),
                Some(request.session.clone()),
                Level::Info,
                "permission",
                message,
            ));
        }
        Event::ProcessUpdate { .. }
        | Event::LogEntry { .. }
        | Event::InsightUpdate { .. }
        | Event::ConversationUpdate { .. }
        | Event::NotifySettingsUpdate { .. } => {}
    }
}
