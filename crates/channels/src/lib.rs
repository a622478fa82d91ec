//! Notification channels that reach the owner through a service, each behind
//! `paddock_core::notify::Channel`: [`ntfy`] (buttons whose answers come back on a reply
//! topic the host subscribes to), [`chat`] (Slack Block Kit and Discord embeds through
//! incoming webhooks), [`webhook`] (JSON signed with HMAC-SHA256), [`email`] (SMTP with
//! STARTTLS or TLS), [`apns`] (token-based, HTTP/2) and [`fcm`] (HTTP v1 with a service
//! account). [`start`] adds the ones `[notify.*]` turns on to a running supervisor; `paddock
//! up` calls it, and `paddock notifications test <name>` then reaches each.
#![forbid(unsafe_code)]

pub mod apns;
pub mod chat;
pub mod devices;
pub mod email;
pub mod fcm;
pub mod http;
pub mod jwt;
pub mod ntfy;
pub mod secret;
pub mod webhook;

use paddock_core::notify::Channel;
use paddock_core::Handle;
use paddock_proto::supervisor::HealthStatus;
use std::sync::Arc;

/// A channel's section cannot be used as written: says which setting and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("[notify.{channel}] {problem}")]
pub struct SetupError {
    pub channel: &'static str,
    pub problem: String,
}

impl SetupError {
    pub fn new(channel: &'static str, problem: impl Into<String>) -> Self {
        Self {
            channel,
            problem: problem.into(),
        }
    }
}

/// The channels `[notify]` turns on, built; a section that cannot be used is returned as
/// its error instead (the others still run).
pub fn build(
    config: &paddock_core::notify::config::NotifyConfig,
) -> Vec<Result<Arc<dyn Channel>, SetupError>> {
    fn boxed<C: Channel>(r: Result<C, SetupError>) -> Result<Arc<dyn Channel>, SetupError> {
        r.map(|c| Arc::new(c) as Arc<dyn Channel>)
    }
    let mut out = Vec::new();
    if config.ntfy.enabled {
        out.push(boxed(ntfy::Ntfy::new(&config.ntfy)));
    }
    if config.slack.enabled {
        out.push(boxed(chat::Chat::new(chat::Service::Slack, &config.slack)));
    }
    if config.discord.enabled {
        out.push(boxed(chat::Chat::new(
            chat::Service::Discord,
            &config.discord,
        )));
    }
    if config.webhook.enabled {
        out.push(boxed(webhook::Webhook::new(&config.webhook)));
    }
    if config.email.enabled {
        out.push(boxed(email::Email::new(&config.email)));
    }
    if config.apns.enabled {
        out.push(boxed(apns::Apns::new(&config.apns)));
    }
    if config.fcm.enabled {
        out.push(boxed(fcm::Fcm::new(&config.fcm)));
    }
    out
}

/// Adds every channel the configuration turns on to the supervisor. One that cannot start is
/// marked on the health board (`notify.<name>`) with what to fix, and the others run.
pub fn start(handle: &Handle) {
    let config = handle.config().notify.clone();
    if !config.enabled {
        return;
    }
    for built in build(&config) {
        match built {
            Ok(channel) => handle.add_notify_channel(channel),
            Err(e) => {
                tracing::warn!(channel = e.channel, error = %e, "a notification channel is not available");
                handle.health().set(
                    &paddock_core::notify::notifier::health_name(e.channel),
                    HealthStatus::Unhealthy,
                    e.to_string(),
                );
            }
        }
    }
}

/// The words every channel shows: the title, the body, and where the request is.
pub(crate) fn lines(out: &paddock_core::notify::Outgoing) -> (String, String) {
    let n = &out.notification;
    let mut body = n.body.clone();
    if let Some(name) = &n.session_name {
        if !n.title.contains(name.as_str()) {
            body = format!("{body}\nSession: {name}");
        }
    }
    (n.title.clone(), body)
}
