//! A Paddock host in one call: the supervisor, the endpoint when the configuration enables
//! it, and the notifier with its channels, started and stopped together. `paddock up` and
//! the desktop app (host mode) both run a host through this, so they start exactly the same
//! things in the same order. [`HostMode`] is the app's choice: run a host, or join the
//! supervisor that already runs; [`AppHost`] is the app's state around it (its socket, the
//! tray's feed, what `this_host` answers, presence, quitting).
use crate::{start_if_enabled, Server};
use paddock_core::events::Bus;
use paddock_core::local_client::{LocalClient, LocalError};
use paddock_core::supervisor::SupervisorError;
use paddock_core::tray::TrayFeed;
use paddock_core::{Config, Supervisor};
use paddock_host::dirs::RuntimeDir;
use paddock_proto::shell::{HostModeKind, ThisHost};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// A running supervisor with its endpoint (if enabled and able to start).
pub struct Host {
    pub supervisor: Supervisor,
    /// `None` when `server.enabled = false`, or when the endpoint could not start (then the
    /// supervisor's health board says why).
    pub server: Option<Server>,
}

impl Host {
    /// Takes the per-user supervisor lock, starts every component, then the endpoint. Fails
    /// with [`SupervisorError::AlreadyRunning`] when another supervisor holds the lock.
    pub async fn start(
        config: Config,
        config_file: PathBuf,
        runtime_dir: RuntimeDir,
        bus: Bus,
    ) -> Result<Self, SupervisorError> {
        let supervisor = Supervisor::start_with_bus(config, config_file, runtime_dir, bus)?;
        let server = start_if_enabled(supervisor.handle()).await;
        // After the endpoint, so notifications' links and buttons know its URL.
        paddock_notify::start(supervisor.handle()).await;
        paddock_channels::start(supervisor.handle());
        Ok(Self { supervisor, server })
    }

    /// Stops the endpoint (closing every connection), then the supervisor. Agents keep
    /// running in their holders.
    pub async fn stop(self) {
        if let Some(server) = self.server {
            server.stop().await;
        }
        self.supervisor.stop().await;
    }
}

// the app's host mode (apptrim): begin
/// Why a host can neither be started nor joined.
#[derive(Debug, thiserror::Error)]
pub enum HostModeError {
    #[error("cannot read Paddock's configuration: {0}")]
    Config(#[from] paddock_core::config::ConfigError),
    #[error("cannot use Paddock's runtime directory: {0}")]
    Dir(#[from] paddock_host::dirs::DirError),
    #[error("cannot start the supervisor: {0}")]
    Supervisor(SupervisorError),
}

/// Who runs the supervisor a desktop app shows: never two supervisors, the supervisor's own
/// lock (`_supervisor.lock`) decides. Stopping the host never stops an agent.
pub enum HostMode {
    /// This process runs it (and the endpoint): the host `paddock up` runs.
    Embedded(Host),
    /// Another process runs it (`paddock up`, the service, another copy of the app); this one
    /// is its client over the supervisor's socket.
    Joined {
        /// The pid written in the supervisor's lock.
        pid: String,
    },
}

impl HostMode {
    /// Starts a host here, or joins the supervisor that already runs for this user.
    /// `config_file`: the default path when `None`. Must be called inside the async runtime.
    pub async fn start_or_join(
        config_file: Option<PathBuf>,
    ) -> Result<(Self, RuntimeDir), HostModeError> {
        let config_file = config_file.unwrap_or_else(paddock_core::Config::default_path);
        let config = paddock_core::Config::load(&config_file)?;
        let dir = paddock_host::runtime_dir()?;
        match Host::start(config, config_file, dir.clone(), Bus::new()).await {
            Ok(host) => Ok((HostMode::Embedded(host), dir)),
            Err(SupervisorError::AlreadyRunning { pid, .. }) => Ok((HostMode::Joined { pid }, dir)),
            Err(e) => Err(HostModeError::Supervisor(e)),
        }
    }

    /// A sentence saying who runs the supervisor, for the About page and the log.
    pub fn describe(&self) -> String {
        match self {
            HostMode::Embedded(h) => match &h.server {
                Some(s) => format!(
                    "This app runs the supervisor (pid {}) and the endpoint at {}.",
                    std::process::id(),
                    s.url
                ),
                None => format!(
                    "This app runs the supervisor (pid {}); the endpoint is off or could not start (`paddock status` says why).",
                    std::process::id()
                ),
            },
            HostMode::Joined { pid } => format!(
                "A supervisor was already running (pid {pid}: `paddock up` or the service), so this app is its client; quitting the app leaves it running."
            ),
        }
    }

    /// Which of the two, as the app's `this_host` names it.
    pub fn kind(&self) -> paddock_proto::shell::HostModeKind {
        match self {
            HostMode::Embedded(_) => paddock_proto::shell::HostModeKind::Embedded,
            HostMode::Joined { .. } => paddock_proto::shell::HostModeKind::Joined,
        }
    }

    /// The endpoint's URL when this process serves it (joined: the supervisor's status says).
    pub fn endpoint(&self) -> Option<String> {
        match self {
            HostMode::Embedded(h) => h.server.as_ref().map(|s| s.url.clone()),
            HostMode::Joined { .. } => None,
        }
    }

    /// The embedded supervisor's event bus (none when joined: another process publishes).
    pub fn bus(&self) -> Option<Bus> {
        match self {
            HostMode::Embedded(h) => Some(h.supervisor.handle().bus().clone()),
            HostMode::Joined { .. } => None,
        }
    }
}
/// The desktop app's state (Tauri manages it; `src-tauri` only adapts it to windows, tray
/// and commands): who runs the supervisor ([`HostMode`], taken at quit), its socket, and the
/// tray's feed of it.
pub struct AppHost {
    /// The supervisor's local socket (embedded or `paddock up`): one code path either way.
    pub local: LocalClient,
    /// What the tray shows, kept in step with the supervisor, and the pairing window's offer.
    pub feed: TrayFeed,
    mode: Mutex<Option<HostMode>>,
}

impl AppHost {
    /// The app's state around `mode`, asking the supervisor at `local`.
    pub fn new(local: LocalClient, mode: HostMode) -> Self {
        Self {
            feed: TrayFeed::new(local.clone(), mode.endpoint()),
            local,
            mode: Mutex::new(Some(mode)),
        }
    }

    /// Starts a host here or joins the running supervisor ([`HostMode::start_or_join`]), and
    /// the app's state around it, with the embedded supervisor's bus (none when joined).
    pub async fn start_or_join(
        config_file: Option<PathBuf>,
    ) -> Result<(Self, Option<Bus>), HostModeError> {
        let (mode, dir) = HostMode::start_or_join(config_file).await?;
        tracing::info!("{}", mode.describe());
        let bus = mode.bus();
        Ok((Self::new(LocalClient::new(dir.path(), "app"), mode), bus))
    }

    fn mode(&self) -> MutexGuard<'_, Option<HostMode>> {
        self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who runs the supervisor ([`HostMode::describe`]), or that the app is quitting.
    pub fn describe(&self) -> String {
        match &*self.mode() {
            Some(m) => m.describe(),
            None => "The app is quitting.".to_owned(),
        }
    }

    /// Whether this app runs the supervisor, or another process does (also once quitting).
    pub fn kind(&self) -> HostModeKind {
        self.mode()
            .as_ref()
            .map_or(HostModeKind::Joined, HostMode::kind)
    }

    /// Who runs the supervisor this app shows, and where its endpoint serves (the app's
    /// `this_host`).
    pub async fn this_host(&self) -> Result<ThisHost, LocalError> {
        let status = self.local.status().await?;
        Ok(ThisHost {
            mode: self.kind(),
            description: self.describe(),
            pid: status.pid,
            url: status.url,
            fingerprint: status.fingerprint,
        })
    }

    /// Tells this app's own supervisor whether its window has the focus (the owner is at the
    /// desk: notify the desk first, hold the phone's push); a joined supervisor learns
    /// presence from its own clients.
    pub fn window_focused(&self, focused: bool) {
        if let Some(HostMode::Embedded(h)) = &*self.mode() {
            h.supervisor
                .handle()
                .notifier()
                .presence()
                .app_focused(focused);
        }
    }

    /// Stops the embedded host, if this app runs it (the agents keep running); a joined
    /// supervisor stays. Afterwards the app says it is quitting.
    pub async fn quit(&self) {
        let mode = self.mode().take();
        if let Some(HostMode::Embedded(h)) = mode {
            h.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_joined_app_says_who_runs_its_supervisor_until_it_quits() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = AppHost::new(
            LocalClient::new(tmp.path(), "app"),
            HostMode::Joined { pid: "4242".into() },
        );
        assert_eq!(app.kind(), HostModeKind::Joined);
        assert!(app.describe().contains("pid 4242"), "{}", app.describe());
        // Nothing listens in this runtime directory: the question gets what to do.
        let err = app.this_host().await.expect_err("no supervisor");
        assert_eq!(err.code(), "unreachable");
        assert!(err.to_string().contains("paddock up"), "{err}");
        app.window_focused(true); // a joined app has no presence to tell: nothing happens
        app.quit().await;
        assert_eq!(app.describe(), "The app is quitting.");
        assert_eq!(app.kind(), HostModeKind::Joined);
    }
}
// the app's host mode (apptrim): end
