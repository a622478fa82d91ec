//! Every session the supervisor knows, of every backend, in one place. Changes are published
//! on the bus as they happen.

use crate::events::{Bus, Event};
use paddock_proto::supervisor::{Backend, SessionView};
use paddock_proto::{SessionId, SessionState};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The registry. Cheap to clone; all clones share the same sessions.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Mutex<HashMap<SessionId, SessionView>>>,
    bus: Bus,
}

impl Registry {
    pub fn new(bus: Bus) -> Self {
        Self {
            inner: Arc::default(),
            bus,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, SessionView>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or updates a session; keeps the last sampled cpu and memory when the update has
    /// none. Publishes `session_update` only when something changed.
    pub fn upsert(&self, mut view: SessionView) {
        let changed = {
            let mut map = self.lock();
            if let Some(old) = map.get(&view.id) {
                if view.cpu.is_none() {
                    view.cpu = old.cpu;
                }
                if view.rss.is_none() {
                    view.rss = old.rss;
                }
            }
            let changed = map.get(&view.id) != Some(&view);
            map.insert(view.id.clone(), view.clone());
            changed
        };
        if changed {
            self.bus.publish(Event::SessionUpdate {
                session: Box::new(view),
            });
        }
    }

    pub fn remove(&self, id: &SessionId) {
        if self.lock().remove(id).is_some() {
            self.bus.publish(Event::SessionRemoved { id: id.clone() });
        }
    }

    /// Fills in the agent of a session whose own source could not tell (a bridged tmux pane:
    /// the bridge knows the pane, discovery knows what runs in it).
    pub fn set_agent_if_unknown(&self, id: &SessionId, agent: &str) {
        let updated = {
            let mut map = self.lock();
            match map.get_mut(id) {
                Some(v) if v.agent.is_none() => {
                    v.agent = Some(agent.to_owned());
                    Some(v.clone())
                }
                _ => None,
            }
        };
        if let Some(view) = updated {
            self.bus.publish(Event::SessionUpdate {
                session: Box::new(view),
            });
        }
    }

    /// Records sampled resource use; publishes `process_update` only when the figures moved
    /// (an idle session's steady 0 % and unchanged memory wake nobody).
    pub fn set_metrics(&self, id: &SessionId, cpu: f32, rss: u64, processes: u32) {
        let changed = {
            let mut map = self.lock();
            match map.get_mut(id) {
                Some(v) => {
                    let moved = v.cpu.is_none_or(|c| (c - cpu).abs() >= 0.1) || v.rss != Some(rss);
                    v.cpu = Some(cpu);
                    v.rss = Some(rss);
                    moved
                }
                None => false,
            }
        };
        if changed {
            self.bus.publish(Event::ProcessUpdate {
                id: id.clone(),
                cpu,
                rss,
                processes,
            });
        }
    }

    /// All sessions, oldest first.
    pub fn list(&self) -> Vec<SessionView> {
        let mut all: Vec<_> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        all
    }

    pub fn get(&self, id: &SessionId) -> Option<SessionView> {
        self.lock().get(id).cloned()
    }

    /// Running sessions' root pids, for the monitor.
    pub fn running_roots(&self) -> Vec<(SessionId, u32)> {
        self.lock()
            .values()
            .filter(|v| v.state == SessionState::Running && v.pid > 0)
            .map(|v| (v.id.clone(), v.pid))
            .collect()
    }

    /// Ids of one backend's sessions.
    pub fn ids(&self, backend: Backend) -> Vec<SessionId> {
        self.lock()
            .values()
            .filter(|v| v.backend == backend)
            .map(|v| v.id.clone())
            .collect()
    }
}
