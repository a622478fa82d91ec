//! Notifications: reaching the owner wherever they are, with Approve / Deny on the
//! notification itself.
//!
//! - [`component::run`] is a component on the supervisor's bus: permission requests and
//!   session changes go through the [`rules`] (defaults on, each configurable in
//!   `[notify.rules]`), then cooldowns per rule and session, de-duplication per request,
//!   quiet hours and the global pause, and become [`Notification`]s handed to every channel.
//! - [`presence`] holds push channels back while the owner is at a device, and escalates to
//!   them if nobody answers within `presence.escalate_after`.
//! - [`tokens`]: each action of each notification, per channel, carries a single-use token
//!   (HMAC-bound to request, decision, channel, device and expiry; stored hashed; compared
//!   in constant time). [`redeem`] turns one into an answer through the one permission
//!   registry ([`crate::control::decide`]: first answer wins, a late one hears who answered
//!   and when), audited. When a request is answered anywhere, its notifications are
//!   withdrawn or updated on every channel that can.
//!
//! # The channel contract (stable: channels are written against it)
//!
//! A channel implements [`Channel`] and is added with [`crate::Handle::add_notify_channel`]
//! (by `paddock up` from `[notify.<channel>]`, or by the app for its own):
//! - [`Channel::deliver`] gets an [`Outgoing`]: the [`Notification`] (title, body, link,
//!   kind, the request's tool and detail) and, per action, an [`ActionLink`] with this
//!   channel's own token and a URL (`<public_url>/#act=<token>`) for channels whose buttons
//!   are links. It returns a [`Receipt`] (the remote ids needed to withdraw). Each attempt
//!   runs under `notify.attempt_timeout`; [`ChannelError::Transient`] and timeouts are
//!   retried with backoff (`notify.attempts`), other errors are final. Failures in a row
//!   make the channel degraded, then unhealthy on the health board (`notify.<name>`).
//! - [`Channel::withdraw`] takes a delivered notification back, or replaces it with
//!   [`Withdrawal::text`] ("Allowed by desktop notification"), once its request was answered
//!   or went away. [`Capabilities`] say what the channel can do; `remote` marks push
//!   channels, which presence delays.
//! - [`Channel::listen`] runs for the supervisor's life in channels that hear answers (D-Bus
//!   `ActionInvoked`, an ntfy reply topic) and hands each token to [`Answers::redeem`].
//!   Channels whose buttons are URLs need nothing: the UI redeems the token through
//!   `POST /api/v1/notifications/act` (the token is the credential; rate-limited).
//! - Configuration: a section `[notify.<channel>]` of its own in [`config::NotifyConfig`];
//!   secrets are [`config::Secret`] (redacted in `Debug`), files a channel writes (keys,
//!   subscriptions) are 0600 through [`crate::keyfile`].

pub mod channel;
pub mod component;
pub mod config;
pub mod log;
pub mod model;
pub mod notifier;
pub mod output;
pub mod presence;
pub mod remote_config;
pub mod resources;
pub mod rules;
pub mod settings;
pub mod subscriptions;
pub mod tokens;
pub mod vapid;

pub use channel::{
    ActionLink, Answers, BoxFuture, Capabilities, Channel, ChannelError, Outgoing, Receipt,
    Withdrawal,
};
pub use model::{
    DeliveryStatus, DeliveryView, Notification, NotificationAction, NotificationKind,
    NotificationState,
};
pub use notifier::Notifier;

use crate::control::ControlError;
use crate::supervisor::Handle;
use paddock_proto::agent::{Decision, PermissionRequest};
use std::sync::Arc;
use tokens::TokenError;

/// A redeemed action.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub notification: String,
    /// The request as decided.
    pub request: PermissionRequest,
    /// Who it was decided by, as the audit log and a late answer say it.
    pub by: String,
}

/// Why an action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The registry refused (already answered: says by whom and when; withdrawn; gone).
    #[error(transparent)]
    Decide(#[from] ControlError),
}

/// Redeems an action token (see [`Answers::redeem`]); `channel` is `None` for a link opened
/// anywhere.
pub async fn redeem(
    handle: &Handle,
    token: &str,
    channel: Option<&str>,
    message: Option<String>,
) -> Result<Redeemed, RedeemError> {
    let binding = match handle.notifier().tokens().redeem(token, channel) {
        Ok(b) => b,
        Err(e) => {
            audit(
                handle,
                channel.unwrap_or("link"),
                None,
                "refused",
                Some(e.to_string()),
            );
            return Err(e.into());
        }
    };
    let decision = match binding.decision {
        Decision::Deny { .. } => Decision::Deny {
            message: message.filter(|m| !m.trim().is_empty()),
        },
        d => d,
    };
    let by = match &binding.device {
        Some(d) => format!("{} notification on {d}", binding.channel),
        None => format!("{} notification", binding.channel),
    };
    let verb = decision.verb();
    match crate::control::decide(handle, &binding.request, decision, &by).await {
        Ok(request) => {
            audit(handle, &by, Some(&binding.request), verb, None);
            Ok(Redeemed {
                notification: binding.notification,
                request,
                by,
            })
        }
        Err(e) => {
            audit(
                handle,
                &by,
                Some(&binding.request),
                "refused",
                Some(e.to_string()),
            );
            Err(e.into())
        }
    }
}

fn audit(
    handle: &Handle,
    actor: &str,
    request: Option<&str>,
    result: &str,
    detail: Option<String>,
) {
    handle.access().audit(crate::access::AuditInput {
        actor: actor.to_owned(),
        device_id: None,
        action: "notification.action".into(),
        target: request.map(str::to_owned),
        result: result.to_owned(),
        detail,
    });
}

/// Why a test notification could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("no notification channel `{0}` is running; the configured ones: {1}")]
    NoChannel(String, String),
    #[error("{channel} could not deliver the test notification: {error}")]
    Failed {
        channel: String,
        error: ChannelError,
    },
}

impl Handle {
    /// The notifier.
    pub fn notifier(&self) -> &Notifier {
        self.notifier_ref()
    }

    /// Adds (or replaces, by name) a notification channel, and starts its listener.
    pub fn add_notify_channel(&self, channel: Arc<dyn Channel>) {
        let notifier = self.notifier();
        notifier.push_channel(channel.clone());
        if let Some(shutdown) = notifier.shutdown() {
            let answers = Answers {
                handle: self.clone(),
            };
            tokio::spawn(channel.listen(answers, shutdown));
        }
    }

    /// Sends a test notification through one channel and waits for the outcome.
    pub async fn test_notify_channel(&self, name: &str) -> Result<DeliveryView, TestError> {
        let notifier = self.notifier();
        let channel = notifier.channel(name).ok_or_else(|| {
            let names: Vec<String> = notifier
                .channels()
                .iter()
                .map(|c| c.name().to_owned())
                .collect();
            TestError::NoChannel(
                name.to_owned(),
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            )
        })?;
        let draft = rules::Draft {
            kind: NotificationKind::Test,
            rule: "test".into(),
            title: "Paddock test notification".into(),
            body: format!("If you can read this, Paddock reaches you through {name}."),
            request: None,
        };
        let n = notifier.create(draft, None);
        let base = notifier
            .config()
            .public_url
            .clone()
            .or_else(|| self.endpoint().map(|e| e.url));
        let out = notifier.outgoing(&n, channel.as_ref(), base, std::time::SystemTime::now());
        match notifier.deliver(channel, out).await {
            Ok(_) => Ok(notifier
                .get(&n.id)
                .and_then(|(_, d)| d.into_iter().find(|d| d.channel == name))
                .unwrap_or(DeliveryView {
                    notification: n.id.clone(),
                    channel: name.to_owned(),
                    status: DeliveryStatus::Delivered,
                    attempts: 1,
                    error: None,
                    latency_ms: None,
                })),
            Err(error) => Err(TestError::Failed {
                channel: name.to_owned(),
                error,
            }),
        }
    }
}
