//! Sending one notification to each of a push channel's devices: delivered if any device
//! took it (the log says how many); failed with the most hopeful error otherwise (a
//! retryable one wins, so that a passing outage is retried).

use paddock_core::notify::{ChannelError, Receipt};
use std::future::Future;

/// Calls `send` for each device (it returns the service's message id).
pub async fn fan_out<F, Fut>(devices: &[String], send: F) -> Result<Receipt, ChannelError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<String, ChannelError>>,
{
    if devices.is_empty() {
        return Err(ChannelError::NotConfigured(
            "no devices are listed in its `devices`; add the tokens the app shows".into(),
        ));
    }
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for device in devices {
        match send(device.clone()).await {
            Ok(id) => ids.push(id),
            Err(e) => {
                tracing::warn!(device = %short(device), error = %e, "a push to one device failed");
                errors.push(e);
            }
        }
    }
    if ids.is_empty() {
        let pick = errors
            .iter()
            .position(ChannelError::is_retryable)
            .unwrap_or(0);
        return Err(errors.swap_remove(pick));
    }
    Ok(Receipt {
        detail: Some(format!("{} of {} devices", ids.len(), devices.len())),
        remote_ids: ids,
    })
}

/// A device token shortened for logs.
pub fn short(device: &str) -> String {
    let head: String = device.chars().take(8).collect();
    format!("{head}…")
}
