//! The watcher: samples every running session's process tree (cpu, memory, liveness) every
//! `sample_interval`, and every `discovery_interval` finds agents Paddock did not start, in
//! tmux panes and in bare terminals. Runs on its own thread: process-table reads and tmux
//! calls block.

use crate::config::Config;
use crate::health::Health;
use crate::registry::Registry;
use crate::tmux;
use paddock_monitor::{AgentProcess, Monitor, MonitorConfig};
use paddock_proto::supervisor::{Backend, HealthStatus, SessionView};
use paddock_proto::SessionId;
use paddock_store::{HostMetrics as StoreHost, MetricSample, MetricTarget, Store, UnixMs};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Starts the watcher thread; it stops when `stop` is dropped or sent to.
pub fn spawn(
    config: &Config,
    registry: Registry,
    health: Health,
    runtime_dir: std::path::PathBuf,
    stop: mpsc::Receiver<()>,
    store: Option<Store>,
    notifier: crate::notify::Notifier,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let monitor = Monitor::new(MonitorConfig {
        data_dir: Some(config.data_dir()),
        agents: config.agents.extra.clone(),
        ..MonitorConfig::default()
    });
    let mut w = Watcher {
        monitor,
        registry,
        health,
        runtime_dir,
        sample_every: config.sample_interval,
        discover_every: config.discovery_interval,
        tmux_enabled: config.tmux.enabled,
        bridge_exe: config
            .tmux
            .bridge
            .then(std::env::current_exe)
            .and_then(Result::ok),
        bridges: Arc::default(),
        store,
        notifier,
    };
    std::thread::Builder::new()
        .name("watcher".into())
        .spawn(move || w.run(stop))
}

struct Watcher {
    monitor: Monitor,
    registry: Registry,
    health: Health,
    runtime_dir: std::path::PathBuf,
    sample_every: Duration,
    discover_every: Duration,
    tmux_enabled: bool,
    /// The `paddock` executable that runs bridges, when panes are to be bridged.
    bridge_exe: Option<std::path::PathBuf>,
    /// Bridges being started (`None`) or that failed, and when (retried after
    /// [`BRIDGE_RETRY`]). Bridges start on threads of their own: a pane that takes its time
    /// must not hold up sampling.
    bridges: Arc<Mutex<HashMap<SessionId, Option<Instant>>>>,
    store: Option<Store>,
    /// Told the host's cpu and memory, for the resource rule.
    notifier: crate::notify::Notifier,
}

impl Watcher {
    fn run(&mut self, stop: mpsc::Receiver<()>) {
        let mut next_discovery = Instant::now();
        let mut last_full = Instant::now();
        let mut forks_seen: Option<u64> = None;
        loop {
            let started = Instant::now();
            if started >= next_discovery {
                // A new agent, pane or tmux server always means a new process. While the
                // machine has started none since the last look, there is nothing new to find
                // (and spawning tmux to ask would cost more than everything else here). A
                // full look every minute still catches what needs no new process (a pane
                // marked with @paddock).
                let forks = forks_created();
                let quiet = forks.is_some() && forks == forks_seen;
                if !quiet || last_full.elapsed() >= FULL_DISCOVERY_EVERY {
                    self.discover();
                    last_full = Instant::now();
                    forks_seen = forks_created();
                }
                next_discovery = started + self.discover_every;
            }
            self.sample();
            let spent = started.elapsed();
            let status = if spent > self.sample_every {
                HealthStatus::Degraded
            } else {
                HealthStatus::Healthy
            };
            self.health.set(
                "monitor",
                status,
                format!(
                    "sampling {} sessions took {} ms",
                    self.registry.running_roots().len(),
                    spent.as_millis()
                ),
            );
            match stop.recv_timeout(self.sample_every.saturating_sub(spent)) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                _ => return,
            }
        }
    }

    /// Cpu and memory of every running session; external sessions whose process is gone
    /// are removed (their terminal is not ours, so there is no exit status to keep).
    fn sample(&mut self) {
        let wants_host = self.notifier.wants_host_samples();
        // The host's figures, when the store or the resource rule needs them.
        if self.store.is_some() || wants_host {
            let host = self.monitor.host();
            if wants_host {
                self.notifier.host_sample(crate::notify::resources::Sample {
                    cpu_percent: host.cpu_percent,
                    rss_bytes: host.memory_used_bytes,
                    memory_percent: if host.memory_total_bytes == 0 {
                        0.0
                    } else {
                        (host.memory_used_bytes as f64 * 100.0 / host.memory_total_bytes as f64)
                            as f32
                    },
                });
            }
            if let Some(store) = &self.store {
                store.record_metric(
                    MetricSample::new(
                        MetricTarget::Host,
                        UnixMs::now(),
                        host.cpu_percent as f64,
                        host.memory_used_bytes,
                    )
                    .with_host(StoreHost {
                        mem_total_bytes: host.memory_total_bytes,
                        swap_used_bytes: host.swap_used_bytes,
                        load_1m: host.load_average[0],
                    }),
                );
            }
        }
        let roots = self.registry.running_roots();
        if roots.is_empty() {
            return;
        }
        let pids: Vec<u32> = roots.iter().map(|(_, p)| *p).collect();
        let samples = self.monitor.sample_trees(&pids);
        for ((id, _), sample) in roots.iter().zip(samples) {
            if sample.alive {
                self.registry.set_metrics(
                    id,
                    sample.cpu_percent,
                    sample.rss_bytes,
                    sample.processes.len() as u32,
                );
                let stopped = sample
                    .processes
                    .first()
                    .is_some_and(|root| root.status == paddock_monitor::ProcStatus::Stopped);
                self.registry.set_paused(id, stopped);
                self.registry.set_processes(id, sample.processes);
                if let Some(store) = &self.store {
                    store.record_metric(MetricSample::new(
                        MetricTarget::Session(id.clone()),
                        UnixMs::now(),
                        sample.cpu_percent as f64,
                        sample.rss_bytes,
                    ));
                }
            } else if let Some(view) = self.registry.get(id) {
                if matches!(view.backend, Backend::Tmux | Backend::External) && !self.is_bridged(id)
                {
                    self.registry.remove(id);
                }
            }
        }
    }

    fn is_bridged(&self, id: &SessionId) -> bool {
        self.runtime_dir.join(format!("{id}.sock")).exists()
    }

    fn discover(&mut self) {
        let mut seen: HashSet<SessionId> = HashSet::new();
        let mut claimed: HashSet<u32> = self
            .registry
            .list()
            .iter()
            .filter(|v| {
                matches!(v.backend, Backend::Holder | Backend::ClaudeBg) || self.is_bridged(&v.id)
            })
            .map(|v| v.pid)
            .collect();
        if self.tmux_enabled {
            self.discover_tmux(&mut seen, &mut claimed);
        }
        self.discover_external(&mut seen, &claimed);
        for backend in [Backend::Tmux, Backend::External] {
            for id in self.registry.ids(backend) {
                if !seen.contains(&id) && !self.is_bridged(&id) {
                    self.registry.remove(&id);
                }
            }
        }
    }

    fn discover_tmux(&mut self, seen: &mut HashSet<SessionId>, claimed: &mut HashSet<u32>) {
        let mut errors = Vec::new();
        let mut panes = 0;
        for socket in tmux::servers() {
            match tmux::list_panes(&socket) {
                Ok(list) => {
                    for pane in list.iter().filter(|p| !p.dead) {
                        panes += 1;
                        claimed.insert(pane.pid);
                        if let Some(view) = self.tmux_session(pane) {
                            seen.insert(view.id.clone());
                            if self.is_bridged(&view.id) {
                                if let Some(agent) = &view.agent {
                                    self.registry.set_agent_if_unknown(&view.id, agent);
                                }
                            } else if !self.bridge(pane, &view) {
                                self.registry.upsert_unseen(view);
                            }
                        }
                    }
                }
                // A socket left by a server that is gone: nothing to watch there.
                Err(tmux::TmuxError::Server { .. }) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        if let Some(e) = errors.first() {
            self.health.set("tmux", HealthStatus::Degraded, e.clone());
        } else {
            self.health.set(
                "tmux",
                HealthStatus::Healthy,
                format!("{panes} panes watched"),
            );
        }
    }

    /// Starts a bridge for an agent pane, in the background. Returns true while one is being
    /// started (the holder watcher adopts it once it runs), false when the pane is to be
    /// listed unbridged (bridging off, or it failed less than [`BRIDGE_RETRY`] ago).
    fn bridge(&mut self, pane: &tmux::Pane, view: &SessionView) -> bool {
        let Some(exe) = self.bridge_exe.clone() else {
            return false;
        };
        {
            let mut bridges = self.bridges.lock().unwrap_or_else(|p| p.into_inner());
            match bridges.get(&view.id) {
                Some(None) => return true,
                Some(Some(failed)) if failed.elapsed() < BRIDGE_RETRY => return false,
                _ => {}
            }
            bridges.insert(view.id.clone(), None);
        }
        let Ok(dir) = paddock_host::RuntimeDir::open(self.runtime_dir.clone()) else {
            return false;
        };
        let (id, name, socket, pane_id, target) = (
            view.id.clone(),
            view.name.clone(),
            pane.socket.clone(),
            pane.pane_id.clone(),
            pane.target.clone(),
        );
        let bridges = self.bridges.clone();
        let spawned = std::thread::Builder::new()
            .name("bridge-start".into())
            .spawn(move || {
                let result =
                    paddock_host::launch::spawn_tmux_bridge(&exe, &dir, id.clone(), name, socket, pane_id);
                let mut bridges = bridges.lock().unwrap_or_else(|p| p.into_inner());
                match result {
                    Ok(_) => {
                        tracing::info!(%id, pane = %target, "bridged a tmux pane running an agent");
                        bridges.remove(&id);
                    }
                    Err(e) => {
                        tracing::warn!(%id, pane = %target, error = %e, "cannot bridge this tmux pane; it is listed, but attach, send and logs will not work on it");
                        bridges.insert(id, Some(Instant::now()));
                    }
                }
            });
        spawned.is_ok()
    }

    /// A pane is an agent session when its tree runs an agent, or when it is marked.
    fn tmux_session(&mut self, pane: &tmux::Pane) -> Option<SessionView> {
        let tree = self.monitor.sample_trees(&[pane.pid]).into_iter().next()?;
        let agent = tree.processes.iter().find_map(|p| {
            self.monitor
                .classify_with_patterns(&p.cmd, p.exe.as_deref())
                .map(|k| (p, k))
        });
        let (root, kind) = match agent {
            Some((p, k)) => (p.clone(), Some(k.as_str().to_owned())),
            None if pane.marked => (tree.processes.first()?.clone(), None),
            None => return None,
        };
        Some(SessionView {
            id: pane.session_id(),
            name: pane.target.clone(),
            command: root.cmd.join(" "),
            cwd: root
                .cwd
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| pane.cwd.clone()),
            pid: root.pid,
            status: Default::default(),
            started_at: rfc3339(root.start_time),
            clients: 0,
            backend: Backend::Tmux,
            agent: kind,
            cpu: None,
            rss: None,
            paused: false,
            agent_status: None,
            git: None,
        })
    }

    fn discover_external(&mut self, seen: &mut HashSet<SessionId>, claimed: &HashSet<u32>) {
        for agent in self.monitor.find_agents() {
            // Claude's daemon and its spare REPLs: its agents are listed from their files.
            if crate::agents::claude_bg::is_daemon_process(&agent.cmd) {
                continue;
            }
            let inside = std::iter::once(agent.pid)
                .chain(self.monitor.ancestors(agent.pid))
                .any(|p| claimed.contains(&p));
            if inside {
                continue;
            }
            let view = external_view(&agent);
            seen.insert(view.id.clone());
            self.registry.upsert_unseen(view);
        }
    }
}

/// How long a pane whose bridge failed waits before another attempt.
const BRIDGE_RETRY: Duration = Duration::from_secs(60);

/// Discovery runs at least this often even on a machine that starts no processes.
const FULL_DISCOVERY_EVERY: Duration = Duration::from_secs(60);

/// Processes created since boot (`processes` in /proc/stat); `None` where unknown.
fn forks_created() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("processes "))
        .and_then(|n| n.trim().parse().ok())
}

fn external_view(a: &AgentProcess) -> SessionView {
    let id = SessionId::parse(&format!("ext-{}", a.pid))
        .unwrap_or_else(|_| SessionId::from_random(a.pid as u64));
    SessionView {
        id,
        name: match &a.tty {
            Some(tty) => format!("{} on {tty}", a.kind.as_str()),
            None => a.kind.as_str().to_owned(),
        },
        command: a.cmd.join(" "),
        cwd: a
            .cwd
            .as_ref()
            .map(|c| c.display().to_string())
            .unwrap_or_default(),
        pid: a.pid,
        status: Default::default(),
        started_at: rfc3339(a.start_time),
        clients: 0,
        backend: Backend::External,
        agent: Some(a.kind.as_str().to_owned()),
        cpu: None,
        rss: None,
        paused: false,
        agent_status: None,
        git: None,
    }
}

/// Seconds since the Unix epoch as RFC 3339 (UTC), as sessions and processes show times.
pub(crate) fn rfc3339(unix_secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(unix_secs)).to_string()
}
