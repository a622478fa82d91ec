//! The notifications made so far and their deliveries: making one, reading the log,
//! cooldowns, marking deliveries, and closing a notification when its request is answered.

use super::{Delivery, Notifier, Record, KEEP};
use crate::notify::channel::{ActionLink, Channel, Outgoing, Receipt, Withdrawal};
use crate::notify::log::Write;
use crate::notify::model::{DeliveryStatus, DeliveryView, Notification, NotificationState};
use crate::notify::rules::Draft;
use crate::notify::tokens::Binding;
use paddock_proto::supervisor::SessionView;
use paddock_store::UnixMs;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

impl Notifier {
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
            .map(crate::notify::rules::permission_actions)
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
            issuer: Some(crate::notify::channel::Issuer {
                tokens: self.inner.tokens.clone(),
                channel: channel.name().to_owned(),
                expires,
            }),
        }
    }

    pub(super) fn with_delivery(
        &self,
        id: &str,
        channel: &str,
        f: impl FnOnce(&mut Delivery, Instant),
    ) {
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

pub(super) fn view(notification: &str, channel: &str, d: &Delivery) -> DeliveryView {
    DeliveryView {
        notification: notification.to_owned(),
        channel: channel.to_owned(),
        status: d.status,
        attempts: d.attempts,
        error: d.error.clone(),
        latency_ms: d.latency.map(|l| l.as_millis() as u64),
    }
}

pub(super) fn views(r: &Record) -> Vec<DeliveryView> {
    let mut v: Vec<DeliveryView> = r
        .deliveries
        .iter()
        .map(|(channel, d)| view(&r.notification.id, channel, d))
        .collect();
    v.sort_by(|a, b| a.channel.cmp(&b.channel));
    v
}
