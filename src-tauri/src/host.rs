//! Host mode on the desktop: the app runs the supervisor and the endpoint in-process
//! ([`paddock_server::host::Host`], exactly what `paddock up` runs), unless a supervisor
//! already runs for this user (`paddock up`, the service, another copy of the app): then it is
//! that supervisor's client and says so. Never two supervisors: the supervisor's own lock
//! (`_supervisor.lock`) decides. Stopping the host never stops an agent; holders are
//! separate processes.
use paddock_core::supervisor::SupervisorError;
use paddock_core::Config;
use paddock_host::RuntimeDir;
use paddock_server::host::Host;
use std::path::PathBuf;

/// Why host mode cannot start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot read Paddock's configuration: {0}")]
    Config(#[from] paddock_core::config::ConfigError),
    #[error("cannot use Paddock's runtime directory: {0}")]
    Dir(#[from] paddock_host::dirs::DirError),
    #[error("cannot start the supervisor: {0}")]
    Supervisor(SupervisorError),
}

/// Who runs the supervisor this app shows.
pub enum HostMode {
    /// This app runs it (and the endpoint).
    Embedded(Host),
    /// Another process runs it; the app is its client.
    Joined {
        /// The pid written in the supervisor's lock.
        pid: String,
    },
}

impl HostMode {
    /// A sentence for the About box and the log.
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
}

impl HostMode {
    /// The embedded supervisor's event bus (none when joined: another process publishes).
    pub fn bus(&self) -> Option<paddock_core::events::Bus> {
        match self {
            HostMode::Embedded(h) => Some(h.supervisor.handle().bus().clone()),
            HostMode::Joined { .. } => None,
        }
    }
}

/// Starts the embedded host, or joins the supervisor that already runs. Must be called inside
/// the async runtime.
pub async fn start_or_join(
    config_file: Option<PathBuf>,
) -> Result<(HostMode, RuntimeDir), HostError> {
    let config_file = config_file.unwrap_or_else(Config::default_path);
    let config = Config::load(&config_file)?;
    let dir = paddock_host::runtime_dir()?;
    let bus = paddock_core::events::Bus::new();
    match Host::start(config, config_file, dir.clone(), bus).await {
        Ok(host) => Ok((HostMode::Embedded(host), dir)),
        Err(SupervisorError::AlreadyRunning { pid, .. }) => Ok((HostMode::Joined { pid }, dir)),
        Err(e) => Err(HostError::Supervisor(e)),
    }
}
