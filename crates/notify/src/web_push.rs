//! Web Push (RFC 8030): each subscribed browser gets the notification as a JSON payload
//! encrypted for it (RFC 8291 `aes128gcm`), signed for its push service (RFC 8292 VAPID).
//! The UI's service worker shows it with Approve / Deny where the browser supports actions
//! (a tap opens the request everywhere else) and posts the action token back. Withdrawing
//! sends a message with the same tag, which the worker shows in place of the first.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use paddock_core::notify::notifier::WebPushSetup;
use paddock_core::notify::subscriptions::WebPushSubscription;
use paddock_core::notify::{
    BoxFuture, Capabilities, Channel, ChannelError, NotificationKind, Outgoing, Receipt, Withdrawal,
};
use serde::Serialize;
use std::time::Duration;
use web_push_native::p256;

/// The payload the service worker reads (`ui/public/sw.js`).
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    /// `show` or `withdraw`.
    pub kind: &'a str,
    pub id: &'a str,
    pub tag: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Where a tap goes (absolute when the endpoint's URL is known).
    pub url: String,
    pub request: Option<&'a str>,
    pub tool: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub actions: Vec<PayloadAction<'a>>,
    /// Keep it on screen until answered.
    pub require_interaction: bool,
}

#[derive(Debug, Serialize)]
pub struct PayloadAction<'a> {
    /// The Notification API's `action` key.
    pub action: &'a str,
    pub title: &'a str,
    /// Posted to `POST /api/v1/notifications/act` when pressed.
    pub token: String,
}

/// The Web Push channel.
pub struct WebPush {
    setup: WebPushSetup,
    client: reqwest::Client,
    ttl: Duration,
}

impl WebPush {
    pub fn new(setup: WebPushSetup, ttl: Duration) -> Result<Self, ChannelError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ChannelError::NotConfigured(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self { setup, client, ttl })
    }

    async fn push(
        &self,
        sub: &WebPushSubscription,
        body: &[u8],
        urgency: &str,
        topic: &str,
    ) -> Result<(), ChannelError> {
        let p256dh = URL_SAFE_NO_PAD
            .decode(sub.keys.p256dh.trim_end_matches('='))
            .ok()
            .and_then(|k| p256::PublicKey::from_sec1_bytes(&k).ok())
            .ok_or_else(|| {
                ChannelError::Rejected(
                    "the subscription's p256dh key is not valid; the browser must subscribe again"
                        .into(),
                )
            })?;
        let auth = URL_SAFE_NO_PAD
            .decode(sub.keys.auth.trim_end_matches('='))
            .ok()
            .filter(|a| a.len() == 16)
            .ok_or_else(|| ChannelError::Rejected("the subscription's auth secret is not 16 bytes; the browser must subscribe again".into()))?;
        let auth = web_push_native::Auth::clone_from_slice(&auth);
        let encrypted = web_push_native::encrypt(body.to_vec(), &p256dh, &auth)
            .map_err(|e| ChannelError::Rejected(format!("cannot encrypt the message: {e}")))?;
        let authorization = self
            .setup
            .vapid
            .authorization(&sub.endpoint)
            .map_err(|e| ChannelError::Rejected(e.to_string()))?;
        let response = self
            .client
            .post(&sub.endpoint)
            .header("TTL", self.ttl.as_secs().to_string())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Urgency", urgency)
            .header("Topic", topic)
            .header("Authorization", authorization)
            .body(encrypted)
            .send()
            .await
            .map_err(|e| {
                ChannelError::Transient(format!(
                    "cannot reach the push service {}: {e}",
                    origin(&sub.endpoint)
                ))
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let what = format!(
            "the push service {} answered {status}: {text}",
            origin(&sub.endpoint)
        );
        match status.as_u16() {
            404 | 410 => {
                let _ = self.setup.subscriptions.remove(&sub.endpoint);
                Err(ChannelError::Rejected(format!("{what}; the subscription expired and was removed, so that browser must subscribe again")))
            }
            429 | 500..=599 => Err(ChannelError::Transient(what)),
            _ => Err(ChannelError::Rejected(what)),
        }
    }
}

fn origin(endpoint: &str) -> String {
    paddock_core::notify::vapid::origin(endpoint).unwrap_or_else(|| "?".into())
}

/// The JSON a subscription receives for `out` (its own device-bound tokens).
pub fn payload_for(out: &Outgoing, device: &str) -> Vec<u8> {
    let n = &out.notification;
    let links = out.actions_for_device(device);
    let payload = Payload {
        kind: "show",
        id: &n.id,
        tag: &out.tag,
        title: &n.title,
        body: &n.body,
        url: out.link_url().unwrap_or_else(|| n.link.clone()),
        request: n.request.as_deref(),
        tool: n.tool.as_deref(),
        detail: n.detail.as_deref(),
        actions: links
            .iter()
            .map(|l| PayloadAction {
                action: &l.action.key,
                title: &l.action.label,
                token: l.token.clone(),
            })
            .collect(),
        require_interaction: n.kind == NotificationKind::Permission,
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

impl Channel for WebPush {
    fn name(&self) -> &str {
        "web_push"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: true,
            withdraw: true,
            reply_text: false,
            remote: true,
        }
    }

    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            let subs = self.setup.subscriptions.list();
            if subs.is_empty() {
                return Err(ChannelError::NotConfigured("no browser has subscribed yet: open Paddock in a browser, Settings, Notifications, and turn on push".into()));
            }
            // Per-device routing ([notify.devices]): a device may take only requests, or none.
            let kind = out.notification.kind;
            let subs: Vec<_> = subs
                .into_iter()
                .filter(|s| self.setup.routes_to(s.device.as_deref(), kind))
                .collect();
            if subs.is_empty() {
                return Ok(Receipt {
                    detail: Some("no subscribed device takes this kind of notification (Settings, Notifications, devices)".into()),
                    ..Receipt::default()
                });
            }
            let urgency = if out.notification.kind == NotificationKind::Permission {
                "high"
            } else {
                "normal"
            };
            let mut receipt = Receipt::default();
            let mut errors = Vec::new();
            let mut retry = false;
            for sub in &subs {
                let device = sub
                    .device_name
                    .clone()
                    .or_else(|| sub.device.clone())
                    .unwrap_or_else(|| "a browser".into());
                let body = payload_for(out, &device);
                match self.push(sub, &body, urgency, &out.tag).await {
                    Ok(()) => receipt.remote_ids.push(sub.endpoint.clone()),
                    Err(e) => {
                        retry |= e.is_retryable();
                        errors.push(format!("{device}: {e}"));
                    }
                }
            }
            receipt.detail = Some(format!(
                "{} of {} subscriptions",
                receipt.remote_ids.len(),
                subs.len()
            ));
            if receipt.remote_ids.is_empty() {
                let text = errors.join("; ");
                return Err(if retry {
                    ChannelError::Transient(text)
                } else {
                    ChannelError::Rejected(text)
                });
            }
            for e in errors {
                tracing::warn!(notification = %out.notification.id, error = %e, "a Web Push subscription did not get the notification");
            }
            Ok(receipt)
        })
    }

    fn withdraw<'a>(
        &'a self,
        out: &'a Outgoing,
        receipt: &'a Receipt,
        why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let n = &out.notification;
            let payload = Payload {
                kind: "withdraw",
                id: &n.id,
                tag: &out.tag,
                title: &n.title,
                body: &why.text,
                url: out.link_url().unwrap_or_else(|| n.link.clone()),
                request: n.request.as_deref(),
                tool: n.tool.as_deref(),
                detail: n.detail.as_deref(),
                actions: Vec::new(),
                require_interaction: false,
            };
            let body = serde_json::to_vec(&payload).unwrap_or_default();
            for sub in self.setup.subscriptions.list() {
                if receipt.remote_ids.contains(&sub.endpoint) {
                    self.push(&sub, &body, "normal", &out.tag).await?;
                }
            }
            Ok(())
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, ChannelError>> {
        Box::pin(async move {
            match self.setup.subscriptions.list().len() {
                0 => Err(ChannelError::NotConfigured("no browser has subscribed yet: open Paddock in a browser, Settings, Notifications, and turn on push".into())),
                n => Ok(format!("{n} subscription(s)")),
            }
        })
    }
}
