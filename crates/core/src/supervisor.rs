//! The supervisor: one per user and host. A cheap cloneable [`Handle`] over shared state, an
//! event bus, and components (holder discovery, the local API) that start with it and stop
//! on one shutdown signal. It holds no agent's life: killing it loses nothing.

use crate::config::Config;
use crate::events::Bus;
use crate::health::Health;
use crate::registry::Registry;
use paddock_host::RuntimeDir;
use paddock_proto::supervisor::{Backend, HealthStatus, SessionView, SupervisorStatus};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::watch;

/// The supervisor's socket and lock, named so no session id can collide with them.
pub const SOCKET_NAME: &str = "_supervisor.sock";
const LOCK_NAME: &str = "_supervisor.lock";

/// Why the supervisor cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(
        "a supervisor is already running (pid {pid}, socket {socket}); `paddock status` shows it"
    )]
    AlreadyRunning { pid: String, socket: PathBuf },
    #[error(transparent)]
    Dir(#[from] paddock_host::dirs::DirError),
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A handle on the running supervisor. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    config_file: PathBuf,
    registry: Registry,
    bus: Bus,
    health: Health,
    runtime_dir: RuntimeDir,
    started_at: SystemTime,
    permissions: crate::permissions::Permissions,
    agents: crate::agents::Agents,
    /// Asks holder discovery to scan the runtime directory now.
    rescan: Arc<tokio::sync::Notify>,
    transcripts: std::sync::OnceLock<crate::transcripts::Transcripts>,
    store: std::sync::OnceLock<Option<paddock_store::Store>>,
    access: crate::access::Access,
    endpoint: std::sync::Mutex<Option<Endpoint>>,
    notifier: crate::notify::Notifier,
    mcp_asks: crate::mcp::asks::Asks,
    login_env: crate::login_env::LoginEnv,
}

/// Where the endpoint serves, once it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The base URL, e.g. `https://127.0.0.1:7420`.
    pub url: String,
    /// SHA-256 of its certificate, lowercase hex; `None` over plain HTTP.
    pub fingerprint: Option<String>,
}

/// Why a pairing offer cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PairingError {
    #[error("the endpoint is not serving, so there is nothing to pair with; `paddock status` says why (is `[server] enabled = false`?)")]
    NoEndpoint,
    #[error("the endpoint serves plain HTTP (development mode), which cannot be paired; turn `server.insecure_http` off")]
    NoTls,
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
}

impl Handle {
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    pub(crate) fn notifier_ref(&self) -> &crate::notify::Notifier {
        &self.inner.notifier
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The `config.toml` this supervisor read (settings changed at run time go there).
    pub fn config_file(&self) -> &Path {
        &self.inner.config_file
    }

    pub fn sessions(&self) -> Vec<SessionView> {
        self.inner.registry.list()
    }

    /// Permission requests.
    pub fn permissions(&self) -> &crate::permissions::Permissions {
        &self.inner.permissions
    }

    /// What hooks told about each session's agent.
    pub fn agents(&self) -> &crate::agents::Agents {
        &self.inner.agents
    }

    pub fn runtime_dir(&self) -> &RuntimeDir {
        &self.inner.runtime_dir
    }

    /// The live transcripts (set once the supervisor has started).
    pub fn transcripts(&self) -> Option<&crate::transcripts::Transcripts> {
        self.inner.transcripts.get()
    }

    /// What a session's transcript says so far.
    pub fn insight(
        &self,
        id: &paddock_proto::SessionId,
    ) -> Option<paddock_proto::insight::SessionInsight> {
        self.transcripts()?.insight(id)
    }

    /// Questions MCP callers asked their owner that outlived their tool call.
    /// The owner's login-shell environment, for the sessions this supervisor starts.
    pub fn login_env(&self) -> &crate::login_env::LoginEnv {
        &self.inner.login_env
    }

    pub fn mcp_asks(&self) -> &crate::mcp::asks::Asks {
        &self.inner.mcp_asks
    }

    /// The store, when the database could be opened.
    pub fn store(&self) -> Option<&paddock_store::Store> {
        self.inner.store.get().and_then(Option::as_ref)
    }

    /// Past and present agent sessions from the history index, most recent first.
    pub fn history(
        &self,
        query: &paddock_store::HistoryQuery,
    ) -> Result<Vec<paddock_store::HistorySession>, paddock_store::StoreError> {
        match self.store() {
            Some(s) => s.history_sessions(query),
            None => Ok(Vec::new()),
        }
    }

    /// Full-text search over every prompt and answer in the history.
    pub fn search_history(
        &self,
        words: &str,
        limit: u32,
    ) -> Result<Vec<paddock_store::HistoryHit>, paddock_store::StoreError> {
        match self.store() {
            Some(s) => s.search_history(words, limit),
            None => Ok(Vec::new()),
        }
    }

    /// Asks holder discovery to look for new holders now (a hook from a session that is not
    /// adopted yet).
    pub fn rescan(&self) {
        self.inner.rescan.notify_one();
    }

    pub(crate) fn rescan_requested(&self) -> &tokio::sync::Notify {
        &self.inner.rescan
    }

    /// The component health board.
    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    /// Paired devices, tokens, pairing offers and the audit log.
    pub fn access(&self) -> &crate::access::Access {
        &self.inner.access
    }

    /// Called by the endpoint once it serves (and with `None` when it stops).
    pub fn set_endpoint(&self, endpoint: Option<Endpoint>) {
        *self
            .inner
            .endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = endpoint;
    }

    pub fn endpoint(&self) -> Option<Endpoint> {
        self.inner
            .endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A one-time pairing offer for the endpoint as it serves now.
    pub fn create_pairing(
        &self,
        role: paddock_proto::access::Role,
        ttl: Option<std::time::Duration>,
    ) -> Result<paddock_proto::access::PairingOffer, PairingError> {
        let endpoint = self.endpoint().ok_or(PairingError::NoEndpoint)?;
        let fingerprint = endpoint.fingerprint.ok_or(PairingError::NoTls)?;
        Ok(self
            .inner
            .access
            .create_pairing(role, ttl, &endpoint.url, &fingerprint)?)
    }

    pub fn status(&self) -> SupervisorStatus {
        let sessions = self.sessions();
        let count = |b: Backend| sessions.iter().filter(|s| s.backend == b).count() as u32;
        let components = self.inner.health.components();
        let health = self.inner.health.overall();
        SupervisorStatus {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: crate::upgrade::Build::current().commit,
            protocol: Some(paddock_proto::PROTOCOL_VERSION),
            started_at: humantime::format_rfc3339_seconds(self.inner.started_at).to_string(),
            runtime_dir: self.inner.runtime_dir.path().display().to_string(),
            data_dir: self.inner.config.data_dir().display().to_string(),
            config_file: self.inner.config_file.display().to_string(),
            health,
            components,
            sessions: sessions.len() as u32,
            running: sessions.iter().filter(|s| s.is_running()).count() as u32,
            holders: count(Backend::Holder),
            tmux: count(Backend::Tmux),
            external: count(Backend::External),
            url: self.endpoint().map(|e| e.url),
            fingerprint: self.endpoint().and_then(|e| e.fingerprint),
            presence: self.notifier().presence().views(),
            notifications_paused: self.notifier().config().paused,
        }
    }
}

/// A running supervisor: its handle and what stops it.
pub struct Supervisor {
    handle: Handle,
    shutdown: watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
    watcher: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
    /// Held while the supervisor runs; dropping it (after `stop`) frees the lock, so a
    /// process that runs the supervisor as a library can start it again.
    _lock: nix::fcntl::Flock<File>,
    socket: PathBuf,
}

impl Supervisor {
    /// Takes the per-user lock, binds the local socket and starts every component. Must be
    /// called inside a tokio runtime.
    pub fn start(
        config: Config,
        config_file: PathBuf,
        runtime_dir: RuntimeDir,
    ) -> Result<Self, SupervisorError> {
        Self::start_with_bus(config, config_file, runtime_dir, Bus::new())
    }

    /// Like [`Supervisor::start`], on a bus made earlier (so that log lines written before the
    /// supervisor exists, through [`crate::loglayer::BusLayer`], reach it too).
    pub fn start_with_bus(
        config: Config,
        config_file: PathBuf,
        runtime_dir: RuntimeDir,
        bus: Bus,
    ) -> Result<Self, SupervisorError> {
        let lock = take_lock(&runtime_dir)?;
        let socket = runtime_dir.path().join(SOCKET_NAME);
        let _ = std::fs::remove_file(&socket);
        let io = |source| SupervisorError::Io {
            path: socket.clone(),
            source,
        };
        let listener = tokio::net::UnixListener::bind(&socket).map_err(io)?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        let mcp_socket = runtime_dir.path().join(crate::mcp::SOCKET_NAME);
        let _ = std::fs::remove_file(&mcp_socket);
        let mcp_io = |source| SupervisorError::Io {
            path: mcp_socket.clone(),
            source,
        };
        let mcp_listener = tokio::net::UnixListener::bind(&mcp_socket).map_err(mcp_io)?;
        std::fs::set_permissions(&mcp_socket, std::fs::Permissions::from_mode(0o600))
            .map_err(mcp_io)?;

        // Subscribed before any component starts, so the recorder misses nothing.
        let recorder_events = bus.subscribe();
        let notifier_events = bus.subscribe();
        let registry = Registry::new(bus.clone());
        let health = Health::new(bus.clone());
        health.set(
            "holders",
            HealthStatus::Healthy,
            "watching the runtime directory",
        );
        let db = config.data_dir().join("paddock.db");
        let options = paddock_store::StoreOptions {
            // Idle sessions give a steady trickle of samples: one commit a second is plenty
            // and costs a fifth of the default's.
            batch_interval: std::time::Duration::from_secs(1),
            retention_days: config.retention_days,
            // The recorder applies retention at start and daily.
            housekeeping_every: None,
            // A full disk (or any failing commit) is retried at least every 5 s, so writes
            // resume within seconds of space returning (ARCHITECTURE.md, "Machine faults").
            retry_max: std::time::Duration::from_secs(5),
            ..Default::default()
        };
        let store = match paddock_store::Store::open_recovering(&db, options) {
            Ok(store) => {
                // A database moved aside at open shows here at once (see Store::open_recovering).
                let mut c = store.health().component();
                if c.status == HealthStatus::Healthy {
                    c.message = format!("{}", db.display());
                }
                health.put(c);
                Some(store)
            }
            Err(e) => {
                tracing::error!(path = %db.display(), error = %e, "cannot open the database; running without history");
                health.set("database", HealthStatus::Unhealthy, e.to_string());
                None
            }
        };
        let bus_for_permissions = bus.clone();
        let access = crate::access::Access::open(
            &config.data_dir().join("endpoint"),
            store.clone(),
            config.server.pairing_ttl,
            config.server.access_token_ttl,
        )?
        .with_refresh_grace(config.server.refresh_grace);
        let notifier = crate::notify::Notifier::new(
            config.notify.clone(),
            health.clone(),
            &config.data_dir(),
            store.clone(),
        );
        let handle = Handle {
            inner: Arc::new(Inner {
                notifier,
                mcp_asks: Default::default(),
                login_env: Default::default(),
                access,
                endpoint: std::sync::Mutex::new(None),
                config,
                config_file,
                registry: registry.clone(),
                bus,
                health,
                runtime_dir: runtime_dir.clone(),
                started_at: SystemTime::now(),
                permissions: crate::permissions::Permissions::new(bus_for_permissions),
                agents: crate::agents::Agents::default(),
                rescan: Arc::default(),
                transcripts: std::sync::OnceLock::new(),
                store: std::sync::OnceLock::new(),
            }),
        };
        let prices = match paddock_agents::Prices::load(Some(
            &crate::paths::config_dir().join("prices.toml"),
        )) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read your prices.toml; costs use the built-in prices");
                paddock_agents::Prices::default()
            }
        };
        let _ = handle.inner.store.set(store.clone());
        let _ = handle
            .inner
            .transcripts
            .set(crate::transcripts::Transcripts::start(
                store.clone(),
                prices.clone(),
                registry.clone(),
                handle.inner.bus.clone(),
            ));
        let (stop_watcher, stop_rx) = std::sync::mpsc::channel();
        let watcher_thread = crate::watcher::spawn(
            &handle.inner.config,
            registry.clone(),
            handle.inner.health.clone(),
            runtime_dir.path().to_owned(),
            stop_rx,
            store.clone(),
            handle.notifier().clone(),
        )
        .map_err(|source| SupervisorError::Io {
            path: runtime_dir.path().to_owned(),
            source,
        })?;
        let (shutdown, rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        let runtime_dir_for_guard = runtime_dir.clone();
        tasks.spawn(crate::holders::watch(
            runtime_dir,
            handle.clone(),
            rx.clone(),
        ));
        {
            let registry = registry.clone();
            let rx = rx.clone();
            tasks.spawn(async move { registry.run_rechecks(rx).await });
        }
        tasks.spawn(crate::status_files::follow(handle.clone(), rx.clone()));
        tasks.spawn(crate::runtime_guard::run(
            runtime_dir_for_guard,
            handle.clone(),
            rx.clone(),
        ));
        // Claude Code background agents (issue 15, item 1).
        tasks.spawn(crate::agents::claude_bg::follow::run(
            handle.clone(),
            rx.clone(),
        ));
        // Codex sessions run through their app-server (issue 15, item 2).
        tasks.spawn(crate::agents::codex_app::follow::run(
            handle.clone(),
            rx.clone(),
        ));
        tasks.spawn(crate::api::serve(listener, handle.clone(), rx.clone()));
        tasks.spawn(crate::mcp::local::serve(
            mcp_listener,
            handle.clone(),
            rx.clone(),
        ));
        // Before any channel can be added: a listening channel added right after start
        // (tests, the app) must find the shutdown signal, not miss its listener.
        handle.notifier().set_shutdown(rx.clone());
        tasks.spawn(crate::notify::component::run(
            handle.clone(),
            notifier_events,
            rx.clone(),
        ));
        if let Some(store) = &store {
            tasks.spawn(crate::history::run(store.clone(), prices, rx.clone()));
        }
        if let Some(store) = store {
            tasks.spawn(crate::recorder::run(
                store,
                recorder_events,
                registry.clone(),
                handle.inner.health.clone(),
                handle.inner.config.retention_days,
                rx,
            ));
        }
        tracing::info!(socket = %socket.display(), "supervisor started");
        Ok(Self {
            handle,
            shutdown,
            tasks,
            watcher: Some((stop_watcher, watcher_thread)),
            _lock: lock,
            socket,
        })
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Stops every component and removes the socket. Agents are not touched.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        if let Some((stop, thread)) = self.watcher.take() {
            let _ = stop.send(());
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        let _ = std::fs::remove_file(&self.socket);
        tracing::info!("supervisor stopped; every agent keeps running in its holder");
    }
}

/// Takes the lock again in a runtime directory that was removed and made again (see
/// [`crate::runtime_guard`]); refused when another supervisor has taken it meanwhile.
pub(crate) fn retake_lock(dir: &RuntimeDir) -> Result<nix::fcntl::Flock<File>, SupervisorError> {
    take_lock(dir)
}

/// Takes `_supervisor.lock` (flock, released by the kernel if we die) and writes our pid in it.
fn take_lock(dir: &RuntimeDir) -> Result<nix::fcntl::Flock<File>, SupervisorError> {
    let path = dir.path().join(LOCK_NAME);
    let io = |source| SupervisorError::Io {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let locked = nix::fcntl::Flock::lock(
        file.try_clone().map_err(io)?,
        nix::fcntl::FlockArg::LockExclusiveNonblock,
    );
    match locked {
        Ok(guard) => {
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            write!(file, "{}", std::process::id()).map_err(io)?;
            Ok(guard)
        }
        Err(_) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            Err(SupervisorError::AlreadyRunning {
                pid: pid.trim().to_owned(),
                socket: dir.path().join(SOCKET_NAME),
            })
        }
    }
}

/// The supervisor's socket in `dir`.
pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stopped_supervisor_frees_its_lock_and_a_second_one_is_refused_while_it_runs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let runtime = tmp.path().join("run");
        let config = Config {
            data_dir: Some(tmp.path().join("data")),
            ..Default::default()
        };
        let dir = || RuntimeDir::open(runtime.clone()).expect("runtime dir");
        let first = Supervisor::start(config.clone(), tmp.path().join("c.toml"), dir())
            .expect("first start");
        match Supervisor::start(config.clone(), tmp.path().join("c.toml"), dir()) {
            Err(SupervisorError::AlreadyRunning { pid, .. }) => {
                assert_eq!(pid, std::process::id().to_string())
            }
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("two supervisors on one runtime directory"),
        }
        first.stop().await;
        let again = Supervisor::start(config, tmp.path().join("c.toml"), dir())
            .expect("the lock was freed by stop");
        again.stop().await;
    }
}
