//! Notification channels for `paddock up`, each behind `paddock_core::notify::Channel`:
//! the host's desktop (freedesktop notifications over D-Bus) and Web Push. [`start`] adds
//! the ones `[notify]` turns on to a running supervisor.
#![forbid(unsafe_code)]

pub mod desktop;
pub mod web_push;

use paddock_core::Handle;
use paddock_proto::supervisor::HealthStatus;
use std::sync::Arc;

/// Adds every channel the configuration turns on. A channel that cannot start (no session
/// bus, no key) is marked on the health board with what to do, and the others run.
pub async fn start(handle: &Handle) {
    let config = handle.config().notify.clone();
    if !config.enabled {
        return;
    }
    if config.desktop.enabled {
        let address = config.desktop.bus_address.as_deref();
        if address.is_none() && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            // A headless host: no desktop to notify, which is nothing to fix.
            tracing::info!("no desktop session bus (DBUS_SESSION_BUS_ADDRESS is unset): desktop notifications are off");
        } else {
            match desktop::Desktop::connect(address).await {
                Ok(d) => handle.add_notify_channel(Arc::new(d)),
                Err(e) => unavailable(handle, "desktop", &e.to_string()),
            }
        }
    }
    if config.web_push.enabled {
        // Without a setup the notifier already said why on the health board.
        if let Some(setup) = handle.notifier().web_push() {
            match web_push::WebPush::new(setup.clone(), config.web_push.ttl) {
                Ok(w) => handle.add_notify_channel(Arc::new(w)),
                Err(e) => unavailable(handle, "web_push", &e.to_string()),
            }
        }
    }
}

fn unavailable(handle: &Handle, channel: &str, why: &str) {
    tracing::warn!(
        channel,
        reason = why,
        "a notification channel is not available"
    );
    handle.health().set(
        &paddock_core::notify::notifier::health_name(channel),
        HealthStatus::Degraded,
        why,
    );
}
