//! Live transcripts: each session's transcript (Claude Code) or rollout (Codex), followed as
//! it grows and read into a [`SessionInsight`] (task, actions, files, progress, thinking,
//! tokens, cost). Only what was appended is read; the position is kept in the store so a
//! restarted supervisor resumes where it was. A new line is reflected within the watcher's
//! interval plus the parse.

use crate::events::{Bus, Event};
use crate::registry::Registry;
use paddock_agents::{AgentKind, LiveTranscript, Prices, SessionInsight, TranscriptWatcher};
use paddock_proto::insight::ActionStatus;
use paddock_proto::SessionId;
use paddock_store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often watched transcripts are checked for growth (one `stat` each).
const WATCH_EVERY: Duration = Duration::from_millis(100);

struct Tracked {
    path: PathBuf,
    live: LiveTranscript,
    insight: Option<SessionInsight>,
}

/// Each session's transcript has a lock of its own: reading a large one (the first read of a
/// long session) holds up no other session.
type Shared = Arc<Mutex<Tracked>>;

fn lock_one(t: &Shared) -> MutexGuard<'_, Tracked> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<SessionId, Shared>,
    by_path: HashMap<PathBuf, SessionId>,
}

/// The followed transcripts. Cheap to clone.
#[derive(Clone)]
pub struct Transcripts {
    inner: Arc<Mutex<Inner>>,
    watcher: Option<Arc<TranscriptWatcher>>,
    store: Option<Store>,
    prices: Arc<Prices>,
}

impl Transcripts {
    /// Starts the watcher; changes are read on a task of the current runtime.
    pub fn start(store: Option<Store>, prices: Prices, registry: Registry, bus: Bus) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
        let watcher = match TranscriptWatcher::start(WATCH_EVERY, move |p: &Path| {
            let _ = tx.send(p.to_owned());
        }) {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                tracing::error!(error = %e, "cannot watch transcripts; sessions will show no task, actions or cost");
                None
            }
        };
        let me = Self {
            inner: Arc::default(),
            watcher,
            store,
            prices: Arc::new(prices),
        };
        let reader = me.clone();
        tokio::spawn(async move {
            while let Some(path) = rx.recv().await {
                let r = reader.clone();
                let read = tokio::task::spawn_blocking(move || r.read(&path)).await;
                if let Ok(Some((id, insight))) = read {
                    let tool = running_tool(&insight);
                    registry.observe(&id, |m, _| m.transcript_tool(tool));
                    bus.publish(Event::InsightUpdate {
                        id,
                        insight: Box::new(insight),
                    });
                }
            }
        });
        me
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows `path` as `session`'s transcript (again the same path: nothing to do).
    pub fn follow(&self, session: &SessionId, kind: &AgentKind, path: &Path) {
        let mut inner = self.lock();
        if inner
            .sessions
            .get(session)
            .is_some_and(|t| lock_one(t).path == path)
        {
            return;
        }
        let live = match LiveTranscript::open(kind, path, self.store.as_ref()) {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(%session, error = %e, "not following a transcript");
                return;
            }
        };
        if let Some(old) = inner.sessions.insert(
            session.clone(),
            Arc::new(Mutex::new(Tracked {
                path: path.to_owned(),
                live,
                insight: None,
            })),
        ) {
            let old_path = lock_one(&old).path.clone();
            inner.by_path.remove(&old_path);
            if let Some(w) = &self.watcher {
                w.unwatch(&old_path);
            }
        }
        inner.by_path.insert(path.to_owned(), session.clone());
        tracing::info!(%session, path = %path.display(), "following the agent's transcript");
        if let Some(w) = &self.watcher {
            w.watch(path);
        }
    }

    /// Stops following a session's transcript.
    pub fn forget(&self, session: &SessionId) {
        let mut inner = self.lock();
        if let Some(t) = inner.sessions.remove(session) {
            let path = lock_one(&t).path.clone();
            inner.by_path.remove(&path);
            if let Some(w) = &self.watcher {
                w.unwatch(&path);
            }
        }
    }

    /// What the session's transcript says so far.
    pub fn insight(&self, session: &SessionId) -> Option<SessionInsight> {
        let t = self.lock().sessions.get(session).cloned()?;
        let insight = lock_one(&t).insight.clone();
        insight
    }

    /// Reads what was appended to `path`; the session and its new insight when it changed.
    fn read(&self, path: &Path) -> Option<(SessionId, SessionInsight)> {
        let (id, shared) = {
            let inner = self.lock();
            let id = inner.by_path.get(path)?.clone();
            let shared = inner.sessions.get(&id)?.clone();
            (id, shared)
        };
        let mut tracked = lock_one(&shared);
        match tracked.live.poll() {
            Ok(outcome) if outcome.lines == 0 && tracked.insight.is_some() => return None,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read a transcript");
                return None;
            }
        }
        let insight = tracked.live.insight(&self.prices);
        tracked.insight = Some(insight.clone());
        Some((id, insight))
    }
}

/// The tool the transcript shows running (called, no result yet), if any.
pub fn running_tool(insight: &SessionInsight) -> Option<String> {
    insight
        .recent_actions
        .iter()
        .rev()
        .find(|a| a.status == ActionStatus::Running)
        .map(|a| a.tool.clone())
}
