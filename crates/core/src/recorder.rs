//! The recorder: writes what the supervisor learns into the store, off every hot path (the
//! store queues and commits in batches on its own thread), and keeps the store's health and
//! retention.

use crate::events::{Event, Received, Subscriber};
use crate::health::Health;
use crate::registry::Registry;
use paddock_proto::supervisor::{HealthStatus, SessionView};
use paddock_proto::{SessionId, SessionState};
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
    r.state = view.state.to_string();
    r.ended = ended;
    r.extra = serde_json::json!({ "command": view.command, "exit_code": view.exit_code });
    r
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
                let h = store.health();
                let c = h.component();
                health.set("database", c.status, c.message);
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
            let ended = (session.state == SessionState::Exited).then(UnixMs::now);
            store.upsert_session(record(&session, ended));
            let changed = previous.as_ref().map(|p| (p.state, p.exit_code))
                != Some((session.state, session.exit_code));
            if changed {
                let message = match (previous.is_none(), session.state) {
                    (true, SessionState::Running) => format!(
                        "{} ({}) found: {}",
                        session.name, session.backend, session.command
                    ),
                    (_, SessionState::Exited) => match session.exit_code {
                        Some(c) => format!("{} exited with code {c}", session.name),
                        None => format!("{} exited", session.name),
                    },
                    (false, SessionState::Running) => format!("{} is running again", session.name),
                };
                store.log_activity(ActivityRecord::new(
                    UnixMs::now(),
                    Some(session.id.clone()),
                    Level::Info,
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
        Event::ProcessUpdate { .. } | Event::LogEntry { .. } => {}
    }
}
