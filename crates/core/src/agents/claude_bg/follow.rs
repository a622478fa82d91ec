//! Lists Claude Code's background agents as sessions: a modest poll (once a second, a `stat`
//! of `jobs/` and a read of only the files that changed) while Claude's `jobs/` folder
//! exists, each agent upserted as a `claude-bg` session (`cbg-<id>`) with its state
//! (`state.json`'s `state`, `tempo` and `waitingFor`, fed to the state machine as a status
//! file), its prompt, its transcript (followed like any Claude Code transcript) and its
//! process (the daemon's PTY host, sampled by the watcher for cpu and memory). Once its
//! terminal is open (`ops.rs`), the session is that holder's and this only adds the state.

use super::files::{self, Job, Roster};
use crate::state::FileStatus;
use crate::supervisor::Handle;
use paddock_agents::claude::ClaudePaths;
use paddock_proto::agent::{AgentState, StateDetail};
use paddock_proto::supervisor::{Backend, SessionView};
use paddock_proto::SessionId;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// How often the files are looked at.
const EVERY: Duration = Duration::from_secs(1);

/// What the files said at one look.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub jobs: Vec<Job>,
    pub roster: Roster,
}

/// Reads the files, re-reading only those whose size or time changed; a file caught
/// half-written keeps what was read from it last.
pub struct Scanner {
    root: PathBuf,
    jobs: HashMap<String, (Option<SystemTime>, u64, Job)>,
}

fn stamp(path: &std::path::Path) -> Option<(Option<SystemTime>, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok(), m.len()))
}

impl Scanner {
    /// For Claude Code's folder `root` (`~/.claude`).
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            jobs: HashMap::new(),
        }
    }

    /// Whether Claude's background agents were ever used here (`jobs/` exists).
    pub fn present(&self) -> bool {
        self.root.join("jobs").is_dir()
    }

    /// One look (blocking file I/O).
    pub fn scan(&mut self) -> Snapshot {
        let jobs_dir = self.root.join("jobs");
        let ids = files::job_ids(&jobs_dir).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "cannot list Claude Code's background agents");
            Vec::new()
        });
        self.jobs.retain(|id, _| ids.contains(id));
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            let path = jobs_dir.join(&id).join("state.json");
            let Some((modified, len)) = stamp(&path) else {
                self.jobs.remove(&id);
                continue;
            };
            let cached = self
                .jobs
                .get(&id)
                .filter(|(m, l, _)| *m == modified && *l == len)
                .map(|(_, _, job)| job.clone());
            let job = match cached {
                Some(job) => Some(job),
                None => match files::read_job(&jobs_dir, &id) {
                    Ok(Some(job)) => {
                        self.jobs.insert(id.clone(), (modified, len, job.clone()));
                        Some(job)
                    }
                    Ok(None) => None,
                    Err(e) => {
                        tracing::debug!(error = %e, "keeping what was read last");
                        self.jobs.get(&id).map(|(_, _, job)| job.clone())
                    }
                },
            };
            jobs.extend(job);
        }
        let roster = files::read_roster(&self.root.join("daemon").join("roster.json"))
            .unwrap_or_else(|e| {
                tracing::debug!(error = %e, "cannot read Claude's daemon roster");
                Roster::default()
            });
        Snapshot { jobs, roster }
    }
}

/// The session id of background agent `id`: `cbg-<id>`.
pub fn session_id(id: &str) -> Option<SessionId> {
    SessionId::parse(&format!("{}{id}", super::PREFIX)).ok()
}

/// What `state.json` says, for the state machine (as a status file).
pub fn file_status(job: &Job) -> Option<FileStatus> {
    if job.waiting_for.is_some() || job.state.as_deref() == Some("blocked") {
        return Some(FileStatus::Waiting {
            permission: job
                .waiting_for
                .as_deref()
                .is_some_and(|w| w.to_ascii_lowercase().contains("permission")),
        });
    }
    match (job.tempo.as_deref(), job.state.as_deref()) {
        (Some("active"), _) => Some(FileStatus::Busy),
        (Some("idle"), _) => Some(FileStatus::Idle),
        (_, Some("starting" | "working")) => Some(FileStatus::Busy),
        (_, Some("done")) => Some(FileStatus::Idle),
        _ => None,
    }
}

/// Whether the job has ended (no worker runs it).
fn ended(job: &Job, roster: &Roster) -> bool {
    !roster.workers.contains_key(&job.id)
        || matches!(job.state.as_deref(), Some("stopped" | "failed"))
}

/// The session a background agent is while its terminal is not open.
pub fn view(job: &Job, roster: &Roster) -> Option<SessionView> {
    let id = session_id(&job.id)?;
    let worker = roster.workers.get(&job.id);
    let mut status = StateDetail::default();
    if ended(job, roster) {
        status.state = AgentState::Exited;
        status.reason = job.state.clone();
    }
    let started_at = job.created_at.clone().unwrap_or_else(|| {
        worker
            .and_then(|w| w.started_at_ms)
            .map(|ms| crate::watcher::rfc3339(ms / 1000))
            .unwrap_or_default()
    });
    let intent = job.intent.as_deref().unwrap_or("");
    Some(SessionView {
        id,
        name: job.name.clone().unwrap_or_else(|| job.id.clone()),
        command: format!("claude --bg {intent:?}"),
        cwd: job
            .cwd
            .clone()
            .or_else(|| worker.and_then(|w| w.cwd.clone()))
            .unwrap_or_default(),
        pid: if ended(job, roster) {
            0
        } else {
            worker.map_or(0, |w| w.pid)
        },
        status,
        started_at,
        clients: 0,
        backend: Backend::ClaudeBg,
        agent: Some("claude".to_owned()),
        cpu: None,
        rss: None,
        paused: false,
        agent_status: None,
        git: None,
    })
}

/// Puts one look into the registry: every agent listed (its terminal's holder's session
/// when open), the state from its file, gone agents removed.
pub fn apply(handle: &Handle, snap: &Snapshot, last: &mut HashMap<SessionId, Option<FileStatus>>) {
    let registry = handle.registry();
    let mut seen = HashSet::new();
    for job in &snap.jobs {
        let Some(id) = session_id(&job.id) else {
            continue;
        };
        seen.insert(id.clone());
        let current = registry.get(&id);
        let socket = handle.runtime_dir().socket_path(&id).exists();
        let holder = current.as_ref().filter(|v| v.backend == Backend::Holder);
        match (socket, holder) {
            // Its terminal is open: the session is the holder's.
            (true, Some(h)) if h.is_running() => registry.set_agent_if_unknown(&id, "claude"),
            // Its terminal is being opened: the holder's session replaces this one.
            (true, None) if current.is_some() => {}
            (socket, holder) => {
                if socket && holder.is_some() {
                    // The attach client ended (detached, or the agent stopped): its holder
                    // goes, so the agent is listed from its files again and can be reopened.
                    let h = handle.clone();
                    let gone = id.clone();
                    tokio::spawn(async move {
                        let _ = h
                            .session_request(&gone, paddock_proto::Request::Remove { force: true })
                            .await;
                    });
                }
                let Some(v) = view(job, &snap.roster) else {
                    continue;
                };
                registry.upsert_unseen(v);
                // A view upserted afresh has a fresh machine: tell it the state again.
                if current
                    .as_ref()
                    .is_none_or(|c| c.backend != Backend::ClaudeBg)
                {
                    last.remove(&id);
                }
            }
        }
        if let (Some(path), Some(t), false) = (
            &job.transcript,
            handle.transcripts(),
            ended(job, &snap.roster),
        ) {
            t.follow(&id, &paddock_agents::AgentKind::Claude, path);
        }
        let status = file_status(job);
        if last.get(&id) != Some(&status) {
            last.insert(id.clone(), status.clone());
            registry.observe(&id, |m, _| m.status_file(status));
        }
    }
    last.retain(|id, _| seen.contains(id));
    for id in registry.ids(Backend::ClaudeBg) {
        if !seen.contains(&id) {
            registry.remove(&id);
        }
    }
}

/// Follows the background agents until `shutdown`.
pub async fn run(handle: Handle, mut shutdown: watch::Receiver<bool>) {
    let Some(paths) = ClaudePaths::from_env() else {
        return;
    };
    let mut scanner = Scanner::new(paths.root);
    let mut last = HashMap::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
        if !scanner.present() && handle.registry().ids(Backend::ClaudeBg).is_empty() {
            continue;
        }
        let snap;
        (scanner, snap) = match tokio::task::spawn_blocking(move || {
            let snap = scanner.scan();
            (scanner, snap)
        })
        .await
        {
            Ok(done) => done,
            Err(_) => return,
        };
        apply(&handle, &snap, &mut last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: &str, tempo: Option<&str>, waiting: Option<&str>) -> Job {
        Job {
            id: "e21643de".into(),
            state: Some(state.into()),
            tempo: tempo.map(Into::into),
            waiting_for: waiting.map(Into::into),
            intent: Some("say hello".into()),
            ..Job::default()
        }
    }

    #[test]
    fn the_files_state_maps_to_paddocks() {
        assert_eq!(
            file_status(&job("working", Some("active"), None)),
            Some(FileStatus::Busy)
        );
        assert_eq!(
            file_status(&job("working", Some("idle"), None)),
            Some(FileStatus::Idle)
        );
        assert_eq!(
            file_status(&job("working", Some("active"), Some("permission prompt"))),
            Some(FileStatus::Waiting { permission: true })
        );
        assert_eq!(
            file_status(&job("blocked", None, None)),
            Some(FileStatus::Waiting { permission: false })
        );
        assert_eq!(
            file_status(&job("starting", None, None)),
            Some(FileStatus::Busy)
        );
        assert_eq!(file_status(&job("something-new", None, None)), None);
    }

    #[test]
    fn a_live_agent_is_its_workers_process_and_a_stopped_one_has_ended() {
        let mut roster = Roster::default();
        roster.workers.insert(
            "e21643de".into(),
            files::Worker {
                pid: 4242,
                ..files::Worker::default()
            },
        );
        let v = view(&job("working", Some("idle"), None), &roster).expect("a view");
        assert_eq!(v.id.as_str(), "cbg-e21643de");
        assert_eq!((v.pid, v.backend), (4242, Backend::ClaudeBg));
        assert!(v.is_running());
        assert!(v.command.contains("say hello"));
        let stopped = view(&job("stopped", Some("idle"), None), &roster).expect("a view");
        assert!(!stopped.is_running());
        assert_eq!(stopped.pid, 0);
        let gone = view(&job("working", None, None), &Roster::default()).expect("a view");
        assert!(!gone.is_running(), "no worker runs it");
    }
}
