//! A Paddock host in one call: the supervisor, the endpoint when the configuration enables
//! it, and the notifier with its channels, started and stopped together. `paddock up` and
//! the desktop app (host mode) both run a host through this, so they start exactly the same
//! things in the same order.
use crate::{start_if_enabled, Server};
use paddock_core::events::Bus;
use paddock_core::supervisor::SupervisorError;
use paddock_core::{Config, Supervisor};
use paddock_host::dirs::RuntimeDir;
use std::path::PathBuf;

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
