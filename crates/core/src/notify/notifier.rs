//! The notifier's state: the channels, the notifications made so far (newest 500, in
//! memory, for answering and withdrawing them; the [`DeliveryLog`] keeps them in SQLite),
//! and delivering one notification to every channel with a timeout per attempt, retries
//! with backoff, and the channel's health. Here: the state and its accessors; the
//! notifications and their deliveries are in `records`, one delivery's attempts in `delivery`.

use super::channel::{Channel, Outgoing, Receipt};
use super::config::NotifyConfig;
use super::log::DeliveryLog;
use super::model::{DeliveryStatus, Notification};
use super::presence::Presence;
use super::tokens::ActionTokens;
use crate::health::Health;
use paddock_proto::supervisor::HealthStatus;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

mod delivery;
mod records;

/// Notifications remembered in memory.
const KEEP: usize = 500;
/// Failed deliveries in a row before a channel is unhealthy on the board.
const UNHEALTHY_AFTER: u32 = 3;

/// One channel's part in one notification.
struct Delivery {
    status: DeliveryStatus,
    attempts: u32,
    error: Option<String>,
    latency: Option<Duration>,
    outgoing: Option<Outgoing>,
    receipt: Option<Receipt>,
}

struct Record {
    notification: Arc<Notification>,
    created: Instant,
    deliveries: HashMap<String, Delivery>,
}

#[derive(Default)]
struct State {
    next: u64,
    records: VecDeque<Record>,
    /// (rule, session) → when it last notified.
    cooldowns: HashMap<(String, String), Instant>,
    /// Failures in a row per channel.
    failures: HashMap<String, u32>,
}

/// The notifier. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

/// The settings in force; the settings routes swap them without a restart.
type LiveConfig = Arc<RwLock<Arc<NotifyConfig>>>;

struct Inner {
    config: LiveConfig,
    tokens: ActionTokens,
    health: Health,
    presence: Presence,
    log: DeliveryLog,
    channels: Mutex<Vec<Arc<dyn Channel>>>,
    state: Mutex<State>,
    shutdown: OnceLock<watch::Receiver<bool>>,
    web_push: Option<WebPushSetup>,
    /// The owner's rules on the terminal's screen.
    output: super::output::OutputRules,
    /// The host's latest cpu and memory, from the watcher's thread to the component.
    host: watch::Sender<Option<super::resources::Sample>>,
}

/// The host's side of Web Push: its VAPID key and the browsers that subscribed.
#[derive(Clone)]
pub struct WebPushSetup {
    pub vapid: Arc<super::vapid::Vapid>,
    pub subscriptions: super::subscriptions::Subscriptions,
    config: LiveConfig,
}

impl WebPushSetup {
    /// Whether a notification of `kind` goes to `device`'s browsers (`[notify.devices]`).
    pub fn routes_to(&self, device: Option<&str>, kind: super::NotificationKind) -> bool {
        let config = self
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        super::settings::routes_to(&config, device, kind)
    }
}

impl Notifier {
    /// A notifier with no channels yet, logging to `store`. The action tokens' key is random
    /// per start: tokens live in memory with the requests they answer, so none outlives the
    /// supervisor.
    pub fn new(
        config: NotifyConfig,
        health: Health,
        data_dir: &std::path::Path,
        store: Option<paddock_store::Store>,
    ) -> Self {
        let mut key = [0u8; 32];
        let random = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key);
        if random.is_err() {
            health.set(
                "notify",
                HealthStatus::Unhealthy,
                "no secure random numbers: notifications carry no Approve / Deny",
            );
        }
        let dir = data_dir.join("notify");
        let live: LiveConfig = Arc::new(RwLock::new(Arc::new(config.clone())));
        let web_push = if config.enabled && config.web_push.enabled {
            match super::vapid::Vapid::open(&dir.join("vapid.p8"), &config.web_push.contact) {
                Ok(vapid) => Some(WebPushSetup {
                    vapid: Arc::new(vapid),
                    subscriptions: super::subscriptions::Subscriptions::open(
                        dir.join("web_push.json"),
                    ),
                    config: live.clone(),
                }),
                Err(e) => {
                    health.set(
                        &health_name("web_push"),
                        HealthStatus::Unhealthy,
                        e.to_string(),
                    );
                    None
                }
            }
        } else {
            None
        };
        let log = DeliveryLog::new(store);
        let (output, errors) = super::output::OutputRules::new(&config.rules.custom);
        if !errors.is_empty() {
            health.set("notify.rules", HealthStatus::Degraded, errors.join("; "));
        }
        let state = State {
            // Numbers go on from the log's: `n7` names one notification for good.
            next: log.last_seq().max(0) as u64,
            ..State::default()
        };
        Self {
            inner: Arc::new(Inner {
                web_push,
                presence: Presence::new(config.presence.clone()),
                config: live,
                tokens: ActionTokens::new(&key),
                health,
                log,
                channels: Mutex::default(),
                state: Mutex::new(state),
                shutdown: OnceLock::new(),
                host: watch::channel(None).0,
                output,
            }),
        }
    }

    /// Web Push's key and subscriptions (`None` when it is off or its key is unusable).
    pub fn web_push(&self) -> Option<&WebPushSetup> {
        self.inner.web_push.as_ref()
    }

    /// The settings in force now (a snapshot: they may change at any moment).
    pub fn config(&self) -> Arc<NotifyConfig> {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Puts new settings in force for every notification from now on.
    pub fn set_config(&self, config: NotifyConfig) {
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }

    pub fn tokens(&self) -> &ActionTokens {
        &self.inner.tokens
    }

    /// The owner's rules on the terminal's screen.
    pub fn output_rules(&self) -> &super::output::OutputRules {
        &self.inner.output
    }

    /// Whether the resource rule wants the host's samples.
    pub fn wants_host_samples(&self) -> bool {
        let config = self.config();
        config.enabled && config.rules.resources.enabled
    }

    /// The watcher sampled the host (any thread).
    pub fn host_sample(&self, sample: super::resources::Sample) {
        self.inner.host.send_replace(Some(sample));
    }

    pub(crate) fn host_samples(&self) -> watch::Receiver<Option<super::resources::Sample>> {
        self.inner.host.subscribe()
    }

    /// Where the owner is.
    pub fn presence(&self) -> &Presence {
        &self.inner.presence
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_shutdown(&self, rx: watch::Receiver<bool>) {
        let _ = self.inner.shutdown.set(rx);
    }

    pub(crate) fn shutdown(&self) -> Option<watch::Receiver<bool>> {
        self.inner.shutdown.get().cloned()
    }

    pub(crate) fn push_channel(&self, channel: Arc<dyn Channel>) {
        let mut channels = self
            .inner
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        channels.retain(|c| c.name() != channel.name());
        self.inner
            .health
            .set(&health_name(channel.name()), HealthStatus::Healthy, "ready");
        channels.push(channel);
    }

    pub fn channels(&self) -> Vec<Arc<dyn Channel>> {
        self.inner
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn channel(&self, name: &str) -> Option<Arc<dyn Channel>> {
        self.channels().into_iter().find(|c| c.name() == name)
    }
}

/// The health board's name for a channel.
pub fn health_name(channel: &str) -> String {
    format!("notify.{channel}")
}

#[cfg(test)]
mod tests;
