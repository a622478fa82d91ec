//! Apple Push Notification service, token-based: an ES256 JWT (`kid` = the key's id, `iss` =
//! the team, `iat`) made with the owner's `.p8` key and reused for 50 minutes (Apple refuses
//! one older than an hour, and too many new ones), then `POST /3/device/<token>` over HTTP/2
//! with `apns-topic`, `apns-push-type`, `apns-priority`, `apns-expiration` and
//! `apns-collapse-id`. The payload carries the notification's actions with their tokens
//! under `paddock` and `aps.category = PADDOCK_PERMISSION`, for the owner's app to show
//! buttons and redeem the one pressed through `POST /api/v1/notifications/act`. Once the
//! request is answered, a silent alert with the same collapse id replaces it with who answered.

use crate::devices::fan_out;
use crate::jwt::{now, Signer};
use crate::{http, lines, SetupError};
use paddock_core::notify::remote_config::ApnsConfig;
use paddock_core::notify::{
    BoxFuture, Capabilities, Channel, ChannelError, NotificationKind, Outgoing, Receipt, Withdrawal,
};
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const NAME: &str = "apns";
/// A provider token is made again after this long.
const TOKEN_LIFE: Duration = Duration::from_secs(50 * 60);
/// APNs' payload limit for alerts.
const MAX_PAYLOAD: usize = 4096;

/// The APNs channel.
pub struct Apns {
    base_url: String,
    team_id: String,
    key_id: String,
    topic: String,
    devices: Vec<String>,
    signer: Signer,
    client: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for Apns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apns")
            .field("base_url", &self.base_url)
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .field("topic", &self.topic)
            .field("devices", &self.devices.len())
            .finish()
    }
}

impl Apns {
    pub fn new(config: &ApnsConfig) -> Result<Self, SetupError> {
        let err = |p: String| SetupError::new(NAME, p);
        for (field, value) in [
            ("team_id", &config.team_id),
            ("key_id", &config.key_id),
            ("topic", &config.topic),
        ] {
            if value.trim().is_empty() {
                return Err(err(format!(
                    "{field} is empty (team id and key id are in Apple's developer account; topic is the app's bundle id)"
                )));
            }
        }
        let path = config
            .key_file
            .as_ref()
            .ok_or_else(|| err("needs key_file: the .p8 key downloaded from Apple".into()))?;
        let pem = std::fs::read_to_string(path)
            .map_err(|e| err(format!("key_file {} cannot be read: {e}", path.display())))?;
        let signer = Signer::es256_pem(&pem)
            .map_err(|e| err(format!("key_file {} cannot be used: {e}", path.display())))?;
        Ok(Self {
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            team_id: config.team_id.clone(),
            key_id: config.key_id.clone(),
            topic: config.topic.clone(),
            devices: config.devices.clone(),
            signer,
            client: http::client(NAME, config.ca_file.as_deref(), true)?,
            token: Mutex::new(None),
        })
    }

    /// The provider token, made anew when old (or after APNs said it expired).
    fn provider_token(&self) -> Result<String, ChannelError> {
        let mut cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, made)) = cached.as_ref() {
            if made.elapsed() < TOKEN_LIFE {
                return Ok(token.clone());
            }
        }
        let token = self
            .signer
            .sign(
                json!({"kid": self.key_id}),
                &json!({"iss": self.team_id, "iat": now()}),
            )
            .map_err(|e| ChannelError::NotConfigured(format!("cannot sign the APNs token: {e}")))?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The JSON payload; `answered` replaces the text (and drops the actions and the sound)
    /// once the request was answered.
    pub fn payload(out: &Outgoing, answered: Option<&str>) -> Value {
        let n = &out.notification;
        let (title, mut body) = lines(out);
        let actions: Vec<Value> = match answered {
            Some(_) => Vec::new(),
            None => out
                .actions
                .iter()
                .map(|a| json!({"key": a.action.key, "label": a.action.label, "token": a.token}))
                .collect(),
        };
        if let Some(text) = answered {
            body = text.to_owned();
        }
        loop {
            let mut aps = json!({
                "alert": {"title": title, "body": body},
                "thread-id": n.session.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "paddock".into()),
            });
            if answered.is_none() {
                aps["sound"] = "default".into();
            }
            if !actions.is_empty() {
                aps["category"] = "PADDOCK_PERMISSION".into();
            }
            let payload = json!({
                "aps": aps,
                "paddock": {
                    "notification": n.id,
                    "request": n.request,
                    "link": out.link_url(),
                    "actions": actions,
                    "answered": answered,
                },
            });
            if payload.to_string().len() <= MAX_PAYLOAD || body.is_empty() {
                return payload;
            }
            let keep = body.chars().count() / 2;
            body = body.chars().take(keep).collect::<String>() + "…";
        }
    }

    /// `urgent`: priority 10 (delivered at once) rather than 5 (may wait for the device).
    async fn send(
        &self,
        out: &Outgoing,
        payload: &Value,
        urgent: bool,
        device: String,
    ) -> Result<String, ChannelError> {
        let token = self.provider_token()?;
        let url = format!("{}/3/device/{device}", self.base_url);
        let collapse: String = out.tag.chars().take(64).collect();
        let response = self
            .client
            .post(url)
            .header("authorization", format!("bearer {token}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", if urgent { "10" } else { "5" })
            .header("apns-expiration", (now() + 600).to_string())
            .header("apns-collapse-id", collapse)
            .json(payload)
            .send()
            .await
            .map_err(|e| http::send_error("APNs", &e))?;
        let status = response.status().as_u16();
        let apns_id = response
            .headers()
            .get("apns-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        if status == 200 {
            return Ok(apns_id.unwrap_or_default());
        }
        let reason = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_owned))
            .unwrap_or_else(|| body.clone());
        Err(match (status, reason.as_str()) {
            (403, "ExpiredProviderToken") => {
                self.forget_token();
                ChannelError::Transient(
                    "APNs said the provider token expired; a new one will be made".into(),
                )
            }
            (403, r) => ChannelError::Rejected(format!(
                "APNs refused the key ({r}); check team_id, key_id and key_file in [notify.apns]"
            )),
            (410, r) | (400, r @ ("BadDeviceToken" | "DeviceTokenNotForTopic")) => {
                ChannelError::Rejected(format!(
                    "APNs: device {} cannot be reached ({r}); remove it from [notify.apns] devices",
                    crate::devices::short(&device)
                ))
            }
            (s, r) => http::refusal("APNs", s, r),
        })
    }
}

impl Channel for Apns {
    fn name(&self) -> &str {
        NAME
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
            let payload = Self::payload(out, None);
            let urgent = out.notification.kind == NotificationKind::Permission;
            fan_out(&self.devices, |device| {
                self.send(out, &payload, urgent, device)
            })
            .await
        })
    }

    /// Replaces the delivered alert (same `apns-collapse-id`) with who answered, silently.
    fn withdraw<'a>(
        &'a self,
        out: &'a Outgoing,
        _receipt: &'a Receipt,
        why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let payload = Self::payload(out, Some(&why.text));
            fan_out(&self.devices, |device| {
                self.send(out, &payload, false, device)
            })
            .await
            .map(|_| ())
        })
    }
}
