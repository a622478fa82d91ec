//! Every session the supervisor knows, of every backend, in one place. Changes are published
//! on the bus as they happen.

use crate::events::{Bus, Event};
use crate::state::{instant_of, Machine, ProcessLife};
use paddock_proto::supervisor::{Backend, ProcessView, SessionView};
use paddock_proto::SessionId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};
use tokio::sync::{watch, Notify};

struct Entry {
    view: SessionView,
    /// Its process tree as last sampled (root first); empty until sampled. Kept as sampled
    /// and turned into views only when asked for.
    processes: Vec<paddock_monitor::ProcInfo>,
    machine: Machine,
    recheck_at: Option<Instant>,
}

/// The registry. Cheap to clone; all clones share the same sessions.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Mutex<HashMap<SessionId, Entry>>>,
    bus: Bus,
    /// Woken when a session asks to be re-decided earlier than the recheck task sleeps.
    recheck: Arc<Notify>,
}

/// A sampled process as the endpoint shows it.
fn process_view(session: &SessionId, p: &paddock_monitor::ProcInfo) -> ProcessView {
    ProcessView {
        pid: p.pid,
        ppid: p.ppid,
        session: session.clone(),
        name: p.name.clone(),
        command: p.cmd.clone(),
        cwd: p.cwd.as_ref().map(|c| c.display().to_string()),
        started_at: crate::watcher::rfc3339(p.start_time),
        cpu: p.cpu_percent,
        rss: p.rss_bytes,
        threads: p.threads,
        open_files: p.open_files,
        status: p.status.as_str().to_owned(),
        tty: p.tty.clone(),
    }
}

fn since() -> String {
    crate::permissions::now_text()
}

/// Whether a session's new recheck time comes before its old one (so the recheck task, which
/// may sleep until the old one or forever, must look again).
fn earlier(new: Option<Instant>, old: Option<Instant>) -> bool {
    new.is_some_and(|t| old.is_none_or(|old| t < old))
}

impl Registry {
    pub fn new(bus: Bus) -> Self {
        Self {
            inner: Arc::default(),
            bus,
            recheck: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SessionId, Entry>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or updates a session from its process-level source (holder, tmux, process
    /// table); keeps the last sampled cpu and memory when the update has none, and the state
    /// the session's machine decides. Publishes `session_update` only when something changed.
    pub fn upsert(&self, view: SessionView) {
        self.upsert_with(view, true);
    }

    /// [`Registry::upsert`] for a session whose terminal the supervisor cannot see (found in
    /// the process table, or an unbridged tmux pane): its silence says nothing.
    pub fn upsert_unseen(&self, view: SessionView) {
        self.upsert_with(view, false);
    }

    fn upsert_with(&self, mut view: SessionView, sees_output: bool) {
        let now = Instant::now();
        let (changed, wake) = {
            let mut map = self.lock();
            let life = if view.status.state.is_final() {
                ProcessLife::Ended {
                    code: view.status.exit_code,
                    signal: view
                        .status
                        .reason
                        .as_deref()
                        .and_then(|r| r.strip_prefix("killed by "))
                        .map(str::to_owned),
                }
            } else {
                ProcessLife::Running
            };
            let entry = map.entry(view.id.clone()).or_insert_with(|| {
                let mut machine = Machine::default();
                // Its first seconds are counted from the process's start, which may be long
                // before this supervisor saw it.
                if let Some(born) = instant_of(&view.started_at, now, SystemTime::now()) {
                    machine.started(born);
                }
                if !sees_output {
                    machine.output_unseen();
                }
                Entry {
                    view: view.clone(),
                    processes: Vec::new(),
                    machine,
                    recheck_at: None,
                }
            });
            if view.cpu.is_none() {
                view.cpu = entry.view.cpu;
            }
            if view.rss.is_none() {
                view.rss = entry.view.rss;
            }
            if view.agent.is_none() {
                view.agent = entry.view.agent.clone();
            }
            // Paused comes from sampling and control, never from the process-level source;
            // an ended process is not paused.
            view.paused = entry.view.paused && matches!(life, ProcessLife::Running);
            // The agent's own status comes from MCP `set_status` only.
            view.agent_status = entry.view.agent_status.clone();
            entry.machine.set_life(life);
            let decided = entry.machine.decide(now, since);
            view.status = decided.detail;
            let wake = earlier(decided.recheck_at, entry.recheck_at);
            entry.recheck_at = decided.recheck_at;
            let changed = entry.view != view || decided.changed;
            entry.view = view.clone();
            (changed, wake)
        };
        if wake {
            self.recheck.notify_one();
        }
        if changed {
            self.bus.publish(Event::SessionUpdate {
                session: Box::new(view),
            });
        }
    }

    /// Feeds an observation to a session's state machine and publishes the result if the
    /// state changed. Returns the session as it is now (None for an unknown session).
    pub fn observe(
        &self,
        id: &SessionId,
        observe: impl FnOnce(&mut Machine, Instant),
    ) -> Option<SessionView> {
        let now = Instant::now();
        let (view, changed, wake) = {
            let mut map = self.lock();
            let entry = map.get_mut(id)?;
            observe(&mut entry.machine, now);
            let decided = entry.machine.decide(now, since);
            let wake = earlier(decided.recheck_at, entry.recheck_at);
            entry.recheck_at = decided.recheck_at;
            entry.view.status = decided.detail;
            (entry.view.clone(), decided.changed, wake)
        };
        if wake {
            self.recheck.notify_one();
        }
        if changed {
            self.bus.publish(Event::SessionUpdate {
                session: Box::new(view.clone()),
            });
        }
        Some(view)
    }

    /// Re-decides sessions whose time-based transitions are due (quiet output turns
    /// `working` into `idle`), until `shutdown`. Sleeps while nothing is due.
    pub async fn run_rechecks(&self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let next = {
                let map = self.lock();
                map.values().filter_map(|e| e.recheck_at).min()
            };
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => {
                    let now = Instant::now();
                    let due: Vec<SessionId> = self
                        .lock()
                        .iter()
                        .filter(|(_, e)| e.recheck_at.is_some_and(|t| t <= now))
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in due {
                        self.observe(&id, |_, _| {});
                    }
                }
                _ = self.recheck.notified() => {}
                _ = shutdown.changed() => return,
            }
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
                Some(e) if e.view.agent.is_none() => {
                    e.view.agent = Some(agent.to_owned());
                    Some(e.view.clone())
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
            match map.get_mut(id).map(|e| &mut e.view) {
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

    /// Records whether the session's agent is stopped; publishes `session_update` on change.
    pub fn set_paused(&self, id: &SessionId, paused: bool) {
        let changed = {
            let mut map = self.lock();
            match map.get_mut(id) {
                Some(e) if e.view.paused != paused && (!paused || e.view.is_running()) => {
                    e.view.paused = paused;
                    Some(e.view.clone())
                }
                _ => None,
            }
        };
        if let Some(view) = changed {
            self.bus.publish(Event::SessionUpdate {
                session: Box::new(view),
            });
        }
    }

    /// Records what the session's agent says it does (MCP `set_status`); publishes
    /// `session_update`. The session's view, or `None` for an unknown session.
    pub fn set_agent_status(
        &self,
        id: &SessionId,
        status: paddock_proto::supervisor::AgentStatus,
    ) -> Option<SessionView> {
        let view = {
            let mut map = self.lock();
            let e = map.get_mut(id)?;
            e.view.agent_status = Some(status);
            e.view.clone()
        };
        self.bus.publish(Event::SessionUpdate {
            session: Box::new(view.clone()),
        });
        Some(view)
    }

    /// Records a session's process tree as just sampled.
    pub fn set_processes(&self, id: &SessionId, processes: Vec<paddock_monitor::ProcInfo>) {
        if let Some(e) = self.lock().get_mut(id) {
            e.processes = processes;
        }
    }

    /// Every session's processes as last sampled: sessions oldest first, each tree root first.
    pub fn processes(&self, session: Option<&SessionId>) -> Vec<ProcessView> {
        let map = self.lock();
        let mut entries: Vec<&Entry> = map
            .values()
            .filter(|e| session.is_none_or(|id| &e.view.id == id))
            .collect();
        entries.sort_by(|a, b| {
            (&a.view.started_at, &a.view.id).cmp(&(&b.view.started_at, &b.view.id))
        });
        entries
            .into_iter()
            .flat_map(|e| e.processes.iter().map(|p| process_view(&e.view.id, p)))
            .collect()
    }

    /// All sessions, oldest first.
    pub fn list(&self) -> Vec<SessionView> {
        let mut all: Vec<_> = self.lock().values().map(|e| e.view.clone()).collect();
        all.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        all
    }

    pub fn get(&self, id: &SessionId) -> Option<SessionView> {
        self.lock().get(id).map(|e| e.view.clone())
    }

    /// Running sessions' root pids, for the monitor.
    pub fn running_roots(&self) -> Vec<(SessionId, u32)> {
        self.lock()
            .values()
            .filter(|e| e.view.is_running() && e.view.pid > 0)
            .map(|e| (e.view.id.clone(), e.view.pid))
            .collect()
    }

    /// Finds the session whose process tree has `pid` as its root, or that holds `pid` as
    /// the agent (the registry knows roots; callers pass a process's ancestors).
    pub fn by_pid(&self, pids: &[u32]) -> Option<SessionId> {
        let map = self.lock();
        pids.iter().find_map(|pid| {
            map.values()
                .find(|e| e.view.pid == *pid && e.view.is_running())
                .map(|e| e.view.id.clone())
        })
    }

    /// Ids of one backend's sessions.
    pub fn ids(&self, backend: Backend) -> Vec<SessionId> {
        self.lock()
            .values()
            .filter(|e| e.view.backend == backend)
            .map(|e| e.view.id.clone())
            .collect()
    }
}
