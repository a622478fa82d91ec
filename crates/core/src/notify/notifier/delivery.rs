//! Delivering a notification to one channel: an attempt with a timeout, backoff between
//! attempts, and the channel's health on the board.

use super::{health_name, Notifier, UNHEALTHY_AFTER};
use crate::notify::channel::{Channel, ChannelError, Outgoing, Receipt};
use crate::notify::log::Write;
use crate::notify::model::DeliveryStatus;
use paddock_proto::supervisor::HealthStatus;
use paddock_store::UnixMs;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Notifier {
    /// Delivers to one channel: attempts with a timeout each, backoff between them.
    pub(crate) async fn deliver(
        &self,
        channel: Arc<dyn Channel>,
        out: Outgoing,
    ) -> Result<Receipt, ChannelError> {
        let id = out.notification.id.clone();
        let name = channel.name().to_owned();
        let config = self.config();
        let attempts = config.attempts.max(1);
        let timeout = config.attempt_timeout;
        let mut backoff = Duration::from_millis(500);
        let mut last = ChannelError::Transient("not attempted".into());
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(backoff).await;
                backoff *= 4;
                if !self.is_open(&id) {
                    self.mark_skipped(&id, &name, "answered before a retry");
                    return Err(last);
                }
            }
            self.with_delivery(&id, &name, |d, _| d.attempts = attempt);
            let started = Instant::now();
            let result = match tokio::time::timeout(timeout, channel.deliver(&out)).await {
                Ok(r) => r,
                Err(_) => Err(ChannelError::Timeout(timeout)),
            };
            if let Some(seq) = paddock_store::seq_of(&id) {
                self.inner
                    .log
                    .send(Write::Attempt(paddock_store::AttemptRecord {
                        seq,
                        channel: name.clone(),
                        attempt,
                        time: UnixMs::now(),
                        ok: result.is_ok(),
                        error: result.as_ref().err().map(ToString::to_string),
                        latency_ms: started.elapsed().as_millis() as u64,
                    }));
            }
            match result {
                Ok(receipt) => {
                    let r = receipt.clone();
                    let o = out.clone();
                    self.with_delivery(&id, &name, move |d, created| {
                        d.status = DeliveryStatus::Delivered;
                        d.error = None;
                        d.latency = Some(created.elapsed());
                        d.outgoing = Some(o);
                        d.receipt = Some(r);
                    });
                    self.channel_result(&name, None);
                    tracing::info!(notification = %id, channel = %name, "notification delivered");
                    return Ok(receipt);
                }
                Err(e) => {
                    tracing::warn!(notification = %id, channel = %name, attempt, error = %e, "a notification could not be delivered");
                    let text = e.to_string();
                    self.with_delivery(&id, &name, move |d, _| d.error = Some(text));
                    let retry = e.is_retryable();
                    last = e;
                    if !retry {
                        break;
                    }
                }
            }
        }
        if let ChannelError::NotConfigured(_) = last {
            // Nothing to deliver to yet (no browser subscribed, no topic): not a failure of
            // the channel, and nothing for the health board.
            self.with_delivery(&id, &name, |d, _| d.status = DeliveryStatus::Skipped);
            return Err(last);
        }
        self.with_delivery(&id, &name, |d, _| d.status = DeliveryStatus::Failed);
        self.channel_result(&name, Some(&last));
        Err(last)
    }

    fn channel_result(&self, channel: &str, error: Option<&ChannelError>) {
        let failures = {
            let mut state = self.lock();
            let f = state.failures.entry(channel.to_owned()).or_default();
            *f = if error.is_some() { *f + 1 } else { 0 };
            *f
        };
        let name = health_name(channel);
        match error {
            None => self
                .inner
                .health
                .set(&name, HealthStatus::Healthy, "delivering"),
            Some(e) if failures >= UNHEALTHY_AFTER => self.inner.health.set(
                &name,
                HealthStatus::Unhealthy,
                format!("{failures} deliveries in a row failed; the last: {e}"),
            ),
            Some(e) => self.inner.health.set(
                &name,
                HealthStatus::Degraded,
                format!("the last delivery failed: {e}"),
            ),
        }
    }
}
