//! The notifier's state: the channels, the notifications made so far (newest 500, in
//! memory, for answering and withdrawing them; the [`DeliveryLog`] keeps them in SQLite),
//! and delivering one notification to every channel with a timeout per attempt, retries
//! with backoff, and the channel's health.

use super::channel::{ActionLink, Channel, ChannelError, Outgoing, Receipt, Withdrawal};
use super::config::NotifyConfig;
use super::log::{DeliveryLog, Write};
use super::model::{DeliveryStatus, DeliveryView, Notification, NotificationState};
use super::presence::Presence;
use super::rules::Draft;
use super::tokens::{ActionTokens, Binding};
use crate::health::Health;
use paddock_proto::supervisor::{HealthStatus, SessionView};
use paddock_store::UnixMs;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

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

    /// The delivery log: the newest `limit` notifications, newest first, with their
    /// deliveries, from SQLite (so from before a restart too); from memory without a store.
    pub async fn log(&self, limit: usize) -> (Vec<Notification>, Vec<DeliveryView>) {
        let log = self.inner.log.clone();
        let limit32 = u32::try_from(limit).unwrap_or(u32::MAX);
        let read = tokio::task::spawn_blocking(move || log.read(limit32)).await;
        match read {
            Ok(Some(Ok(stored))) => {
                let mut notifications = Vec::with_capacity(stored.len());
                let mut deliveries = Vec::new();
                for s in stored {
                    notifications.push(s.notification);
                    deliveries.extend(s.deliveries);
                }
                return (notifications, deliveries);
            }
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "cannot read the delivery log; showing the notifications in memory")
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "reading the delivery log failed"),
        }
        (self.list(limit), self.deliveries(limit.saturating_mul(8)))
    }

    /// Notifications made since the start, newest first (memory: the newest 500).
    pub fn list(&self, limit: usize) -> Vec<Notification> {
        self.lock()
            .records
            .iter()
            .rev()
            .take(limit)
            .map(|r| (*r.notification).clone())
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<(Notification, Vec<DeliveryView>)> {
        let state = self.lock();
        let r = state.records.iter().find(|r| r.notification.id == id)?;
        Some(((*r.notification).clone(), views(r)))
    }

    /// The deliveries of every remembered notification, newest first.
    pub fn deliveries(&self, limit: usize) -> Vec<DeliveryView> {
        self.lock()
            .records
            .iter()
            .rev()
            .flat_map(views)
            .take(limit)
            .collect()
    }

    /// Whether the cooldown lets `rule` notify about `session` now (and starts it if so).
    pub(crate) fn cooldown_allows(&self, rule: &str, session: &str) -> bool {
        let mut state = self.lock();
        let key = (rule.to_owned(), session.to_owned());
        let now = Instant::now();
        match state.cooldowns.get(&key) {
            Some(t) if now.duration_since(*t) < self.config().cooldown => false,
            _ => {
                state.cooldowns.insert(key, now);
                true
            }
        }
    }

    /// Whether a notification already asks about `request` (de-duplication after a resync).
    pub(crate) fn has_request(&self, request: &str) -> bool {
        self.lock()
            .records
            .iter()
            .any(|r| r.notification.request.as_deref() == Some(request))
    }

    /// Makes a notification from a draft and remembers it.
    pub(crate) fn create(&self, draft: Draft, view: Option<&SessionView>) -> Arc<Notification> {
        let actions = draft
            .request
            .as_ref()
            .map(super::rules::permission_actions)
            .unwrap_or_default();
        let session = view
            .map(|v| v.id.clone())
            .or_else(|| draft.request.as_ref().map(|r| r.session.clone()));
        let mut state = self.lock();
        state.next += 1;
        let id = format!("n{}", state.next);
        let link = match (&session, &draft.request) {
            (Some(s), Some(r)) => format!("/#/sessions/{s}?request={}", r.id),
            (Some(s), None) => format!("/#/sessions/{s}"),
            _ => "/".into(),
        };
        let notification = Arc::new(Notification {
            id,
            kind: draft.kind,
            rule: draft.rule,
            session,
            session_name: view.map(|v| v.name.clone()),
            title: draft.title,
            body: draft.body,
            link,
            request: draft.request.as_ref().map(|r| r.id.clone()),
            tool: draft.request.as_ref().map(|r| r.tool.clone()),
            detail: draft
                .request
                .as_ref()
                .map(|r| paddock_agents::claude::tools::input_summary(&r.tool, &r.input)),
            actions,
            created_at: crate::permissions::now_text(),
            state: NotificationState::Pending,
        });
        state.records.push_back(Record {
            notification: notification.clone(),
            created: Instant::now(),
            deliveries: HashMap::new(),
        });
        self.inner
            .log
            .send(Write::Notification(notification.clone(), UnixMs::now()));
        while state.records.len() > KEEP {
            state.records.pop_front();
        }
        notification
    }

    /// The notification as `channel` carries it: its own action tokens.
    pub(crate) fn outgoing(
        &self,
        n: &Arc<Notification>,
        channel: &dyn Channel,
        base_url: Option<String>,
        expires: SystemTime,
    ) -> Outgoing {
        let mut actions = Vec::new();
        if channel.capabilities().actions || base_url.is_some() {
            for action in &n.actions {
                let binding = Binding {
                    notification: n.id.clone(),
                    request: n.request.clone().unwrap_or_default(),
                    decision: action.decision.clone(),
                    channel: channel.name().to_owned(),
                    device: None,
                    expires,
                };
                let Ok(token) = self.inner.tokens.issue(binding) else {
                    continue;
                };
                let url = base_url
                    .as_deref()
                    .map(|b| format!("{}/#act={token}", b.trim_end_matches('/')));
                actions.push(ActionLink {
                    action: action.clone(),
                    token,
                    url,
                });
            }
        }
        Outgoing {
            notification: n.clone(),
            actions,
            base_url,
            tag: format!("paddock-{}", n.id),
            issuer: Some(super::channel::Issuer {
                tokens: self.inner.tokens.clone(),
                channel: channel.name().to_owned(),
                expires,
            }),
        }
    }

    fn with_delivery(&self, id: &str, channel: &str, f: impl FnOnce(&mut Delivery, Instant)) {
        let mut state = self.lock();
        if let Some(r) = state.records.iter_mut().find(|r| r.notification.id == id) {
            let created = r.created;
            let d = r.deliveries.entry(channel.to_owned()).or_insert(Delivery {
                status: DeliveryStatus::Waiting,
                attempts: 0,
                error: None,
                latency: None,
                outgoing: None,
                receipt: None,
            });
            f(d, created);
            let view = view(&r.notification.id, channel, d);
            let delivered = d.status == DeliveryStatus::Delivered;
            self.inner.log.send(Write::Delivery(view));
            if delivered && r.notification.state == NotificationState::Pending {
                let mut n = (*r.notification).clone();
                n.state = NotificationState::Delivered;
                r.notification = Arc::new(n);
                self.log_changed(&r.notification);
            }
        }
    }

    /// A notification's state changed: the log gets it again (its row keeps its time).
    fn log_changed(&self, n: &Arc<Notification>) {
        // The row exists: only its data changes, the time given is not used.
        self.inner
            .log
            .send(Write::Notification(n.clone(), UnixMs::now()));
    }

    pub(crate) fn mark_skipped(&self, id: &str, channel: &str, why: &str) {
        self.with_delivery(id, channel, |d, _| {
            d.status = DeliveryStatus::Skipped;
            d.error = Some(why.to_owned());
        });
    }

    /// Presence holds the delivery back for now; `why` says until when.
    pub(crate) fn mark_held(&self, id: &str, channel: &str, why: &str) {
        self.with_delivery(id, channel, |d, _| {
            d.status = DeliveryStatus::Waiting;
            d.error = Some(why.to_owned());
        });
    }

    /// Whether the notification is still waiting for its owner (not answered or withdrawn).
    pub(crate) fn is_open(&self, id: &str) -> bool {
        self.lock().records.iter().any(|r| {
            r.notification.id == id
                && matches!(
                    r.notification.state,
                    NotificationState::Pending | NotificationState::Delivered
                )
        })
    }

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

    /// The request a notification asked about was answered or went away: record it, and
    /// take the notification back from every channel that has it. Returns the withdrawals to
    /// run (the caller runs them off the event loop).
    pub(crate) fn close_request(
        &self,
        request: &str,
        state: NotificationState,
        text: &str,
    ) -> Vec<(String, Outgoing, Receipt, Withdrawal)> {
        let mut out = Vec::new();
        let mut s = self.lock();
        for r in s.records.iter_mut() {
            if r.notification.request.as_deref() != Some(request) {
                continue;
            }
            let mut n = (*r.notification).clone();
            n.state = state.clone();
            r.notification = Arc::new(n);
            self.log_changed(&r.notification);
            for (channel, d) in r.deliveries.iter_mut() {
                if let (DeliveryStatus::Delivered, Some(o), Some(rc)) =
                    (d.status, d.outgoing.clone(), d.receipt.clone())
                {
                    d.status = DeliveryStatus::Withdrawn;
                    self.inner
                        .log
                        .send(Write::Delivery(view(&r.notification.id, channel, d)));
                    out.push((
                        channel.clone(),
                        o,
                        rc,
                        Withdrawal {
                            text: text.to_owned(),
                        },
                    ));
                }
            }
        }
        out
    }
}

/// The health board's name for a channel.
pub fn health_name(channel: &str) -> String {
    format!("notify.{channel}")
}

fn view(notification: &str, channel: &str, d: &Delivery) -> DeliveryView {
    DeliveryView {
        notification: notification.to_owned(),
        channel: channel.to_owned(),
        status: d.status,
        attempts: d.attempts,
        error: d.error.clone(),
        latency_ms: d.latency.map(|l| l.as_millis() as u64),
    }
}

fn views(r: &Record) -> Vec<DeliveryView> {
    let mut v: Vec<DeliveryView> = r
        .deliveries
        .iter()
        .map(|(channel, d)| view(&r.notification.id, channel, d))
        .collect();
    v.sort_by(|a, b| a.channel.cmp(&b.channel));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channel::{BoxFuture, Capabilities};
    use crate::notify::model::NotificationKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A channel whose first `fail` deliveries fail with `error`.
    struct Flaky {
        fail: u32,
        error: ChannelError,
        calls: AtomicU32,
    }

    impl Channel for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                actions: true,
                withdraw: true,
                ..Default::default()
            }
        }
        fn deliver<'a>(
            &'a self,
            _out: &'a Outgoing,
        ) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                if n < self.fail {
                    Err(self.error.clone())
                } else {
                    Ok(Receipt {
                        remote_ids: vec![format!("r{n}")],
                        detail: None,
                    })
                }
            })
        }
    }

    fn setup(fail: u32, error: ChannelError) -> (tempfile::TempDir, Notifier, Health, Arc<Flaky>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let health = Health::new(crate::events::Bus::new());
        let config = NotifyConfig {
            web_push: super::super::config::WebPushConfig {
                enabled: false,
                ..Default::default()
            },
            ..Default::default()
        };
        let n = Notifier::new(config, health.clone(), dir.path(), None);
        let ch = Arc::new(Flaky {
            fail,
            error,
            calls: AtomicU32::new(0),
        });
        n.push_channel(ch.clone());
        (dir, n, health, ch)
    }

    fn draft(request: Option<&str>) -> Draft {
        Draft {
            kind: NotificationKind::Permission,
            rule: "permission".into(),
            title: "t".into(),
            body: "b".into(),
            request: request.map(|id| paddock_proto::agent::PermissionRequest {
                id: id.into(),
                session: paddock_proto::SessionId::parse("s1").expect("id"),
                agent_session: None,
                tool: "Bash".into(),
                input: serde_json::json!({"command": "make"}),
                suggestions: Vec::new(),
                created_at: String::new(),
                expires_at: String::new(),
                channel: paddock_proto::agent::AnswerChannel::Hook,
                outcome: None,
                questions: Vec::new(),
            }),
        }
    }

    fn board(health: &Health) -> (HealthStatus, String) {
        let c = health
            .components()
            .into_iter()
            .find(|c| c.name == "notify.flaky")
            .expect("on the board");
        (c.status, c.message)
    }

    #[tokio::test]
    async fn a_transient_failure_is_retried_and_then_delivered() {
        let (_d, n, health, ch) = setup(1, ChannelError::Transient("503".into()));
        let note = n.create(draft(Some("p1")), None);
        let out = n.outgoing(
            &note,
            ch.as_ref(),
            None,
            SystemTime::now() + Duration::from_secs(60),
        );
        assert_eq!(out.actions.len(), 2, "Approve and Deny, each with a token");
        n.deliver(ch.clone(), out).await.expect("second attempt");
        let (_, deliveries) = n.get(&note.id).expect("remembered");
        assert_eq!(deliveries[0].status, DeliveryStatus::Delivered);
        assert_eq!(deliveries[0].attempts, 2);
        assert_eq!(board(&health).0, HealthStatus::Healthy);
        // Answered elsewhere: the delivered notification is handed back to be withdrawn.
        let back = n.close_request(
            "p1",
            NotificationState::Answered {
                by: "cli".into(),
                verb: "allowed".into(),
                at: "now".into(),
            },
            "Allowed by cli",
        );
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].2.remote_ids, ["r1"]);
        assert!(!n.is_open(&note.id));
    }

    #[tokio::test]
    async fn a_channel_that_keeps_refusing_is_not_retried_and_turns_unhealthy() {
        let (_d, n, health, ch) = setup(u32::MAX, ChannelError::Rejected("400 bad".into()));
        for i in 1..=3 {
            let note = n.create(draft(None), None);
            let out = n.outgoing(&note, ch.as_ref(), None, SystemTime::now());
            let err = n.deliver(ch.clone(), out).await.expect_err("refused");
            assert_eq!(err, ChannelError::Rejected("400 bad".into()));
            assert_eq!(
                ch.calls.load(Ordering::SeqCst),
                i,
                "a refusal is not retried"
            );
            let (_, d) = n.get(&note.id).expect("remembered");
            assert_eq!(d[0].status, DeliveryStatus::Failed);
            assert_eq!(d[0].error.as_deref(), Some("400 bad"));
        }
        let (status, message) = board(&health);
        assert_eq!(status, HealthStatus::Unhealthy);
        assert!(
            message.contains("3 deliveries in a row failed"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_channel_with_nobody_to_reach_skips_without_going_unhealthy() {
        let (_d, n, health, ch) = setup(
            u32::MAX,
            ChannelError::NotConfigured("no browser subscribed".into()),
        );
        for _ in 0..4 {
            let note = n.create(draft(None), None);
            let out = n.outgoing(&note, ch.as_ref(), None, SystemTime::now());
            assert!(n.deliver(ch.clone(), out).await.is_err());
            let (_, d) = n.get(&note.id).expect("remembered");
            assert_eq!(d[0].status, DeliveryStatus::Skipped);
        }
        assert_eq!(board(&health).0, HealthStatus::Healthy);
    }

    #[test]
    fn the_cooldown_holds_a_rule_per_session() {
        let (_d, n, _h, _c) = setup(0, ChannelError::Transient(String::new()));
        assert!(n.cooldown_allows("waiting_input", "s1"));
        assert!(!n.cooldown_allows("waiting_input", "s1"));
        assert!(n.cooldown_allows("waiting_input", "s2"));
        assert!(n.cooldown_allows("errored", "s1"));
    }
}
