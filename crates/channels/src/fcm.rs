//! Firebase Cloud Messaging, HTTP v1: the service account signs an RS256 assertion (`iss` =
//! its email, `scope` = firebase.messaging, `aud` = the token URL, an hour long), which is
//! exchanged for an OAuth access token (kept until shortly before it expires, dropped when
//! FCM says 401), then `POST /v1/projects/<id>/messages:send` for each device. The message
//! carries the notification's actions with their tokens in `data` (string values, as FCM
//! requires), for the owner's app to show buttons and redeem the one pressed. Once the
//! request is answered, a message with the same Android tag replaces it with who answered.

use crate::devices::fan_out;
use crate::jwt::{now, Signer};
use crate::{http, lines, SetupError};
use paddock_core::notify::remote_config::FcmConfig;
use paddock_core::notify::{
    BoxFuture, Capabilities, Channel, ChannelError, NotificationKind, Outgoing, Receipt, Withdrawal,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const NAME: &str = "fcm";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// An access token is renewed this long before it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The fields of a service account's JSON key that FCM needs.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: String,
    client_email: String,
    token_uri: Option<String>,
}

/// The FCM channel.
pub struct Fcm {
    base_url: String,
    project: String,
    token_url: String,
    client_email: String,
    key_id: Option<String>,
    devices: Vec<String>,
    signer: Signer,
    client: reqwest::Client,
    access: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for Fcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fcm")
            .field("base_url", &self.base_url)
            .field("project", &self.project)
            .field("client_email", &self.client_email)
            .field("devices", &self.devices.len())
            .finish()
    }
}

impl Fcm {
    pub fn new(config: &FcmConfig) -> Result<Self, SetupError> {
        let err = |p: String| SetupError::new(NAME, p);
        let path = config.service_account_file.as_ref().ok_or_else(|| {
            err("needs service_account_file: the JSON key of a service account (Firebase console, Project settings, Service accounts)".into())
        })?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            err(format!(
                "service_account_file {} cannot be read: {e}",
                path.display()
            ))
        })?;
        let sa: ServiceAccount = serde_json::from_str(&text).map_err(|e| {
            err(format!(
                "service_account_file {} is not a service account key: {e}",
                path.display()
            ))
        })?;
        let signer = Signer::rs256_pem(&sa.private_key).map_err(|e| {
            err(format!(
                "the private_key in {} cannot be used: {e}",
                path.display()
            ))
        })?;
        let project = config
            .project_id
            .clone()
            .or(sa.project_id)
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| err("has no project: set project_id".into()))?;
        Ok(Self {
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            project,
            token_url: config
                .token_url
                .clone()
                .or(sa.token_uri)
                .unwrap_or_else(|| DEFAULT_TOKEN_URL.into()),
            client_email: sa.client_email,
            key_id: sa.private_key_id,
            devices: config.devices.clone(),
            signer,
            client: http::client(NAME, config.ca_file.as_deref(), false)?,
            access: Mutex::new(None),
        })
    }

    /// An access token: the cached one, or a new one for a fresh assertion.
    async fn access_token(&self) -> Result<String, ChannelError> {
        let mut cached = self.access.lock().await;
        if let Some((token, expires)) = cached.as_ref() {
            if Instant::now() + RENEW_BEFORE < *expires {
                return Ok(token.clone());
            }
        }
        let iat = now();
        let mut header = json!({});
        if let Some(kid) = &self.key_id {
            header["kid"] = kid.clone().into();
        }
        let assertion = self
            .signer
            .sign(
                header,
                &json!({
                    "iss": self.client_email,
                    "scope": SCOPE,
                    "aud": self.token_url,
                    "iat": iat,
                    "exp": iat + 3600,
                }),
            )
            .map_err(|e| {
                ChannelError::NotConfigured(format!("cannot sign the FCM assertion: {e}"))
            })?;
        let response = self
            .client
            .post(&self.token_url)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| http::send_error("Google's token service", &e))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status != 200 {
            return Err(match status {
                400 | 401 | 403 => ChannelError::Rejected(format!(
                    "Google refused the service account ({status}: {}); check service_account_file in [notify.fcm]",
                    body.trim()
                )),
                s => http::refusal("Google's token service", s, &body),
            });
        }
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| {
                ChannelError::Transient("Google's token service answered no access_token".into())
            })?
            .to_owned();
        let life = Duration::from_secs(v["expires_in"].as_u64().unwrap_or(3600));
        *cached = Some((token.clone(), Instant::now() + life));
        Ok(token)
    }

    /// The `message` for one device; `answered` replaces the text (and drops the actions)
    /// once the request was answered.
    pub fn message(out: &Outgoing, device: &str, answered: Option<&str>) -> Value {
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
        let permission = n.kind == NotificationKind::Permission && answered.is_none();
        let mut data = json!({
            "notification": n.id,
            "kind": serde_json::to_value(n.kind).ok().and_then(|k| k.as_str().map(str::to_owned)).unwrap_or_default(),
            "actions": Value::Array(actions).to_string(),
        });
        if let Some(link) = out.link_url() {
            data["link"] = link.into();
        }
        if let Some(r) = &n.request {
            data["request"] = r.clone().into();
        }
        if let Some(text) = answered {
            data["answered"] = text.into();
        }
        json!({"message": {
            "token": device,
            "notification": {"title": title, "body": body},
            "data": data,
            "android": {
                "priority": if permission { "high" } else { "normal" },
                "ttl": "600s",
                "collapse_key": out.tag,
                "notification": {"tag": out.tag},
            },
        }})
    }

    async fn send(
        &self,
        out: &Outgoing,
        answered: Option<&str>,
        device: String,
    ) -> Result<String, ChannelError> {
        let token = self.access_token().await?;
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.base_url, self.project
        );
        let response = self
            .client
            .post(url)
            .bearer_auth(token)
            .json(&Self::message(out, &device, answered))
            .send()
            .await
            .map_err(|e| http::send_error("FCM", &e))?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status == 200 {
            let v: Value = serde_json::from_str(&body).unwrap_or_default();
            return Ok(v["name"].as_str().unwrap_or_default().to_owned());
        }
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let code = v["error"]["details"]
            .as_array()
            .and_then(|d| d.iter().find_map(|x| x["errorCode"].as_str()))
            .or_else(|| v["error"]["status"].as_str())
            .unwrap_or("")
            .to_owned();
        let message = v["error"]["message"]
            .as_str()
            .unwrap_or(body.trim())
            .to_owned();
        Err(match (status, code.as_str()) {
            (401, _) => {
                *self.access.lock().await = None;
                ChannelError::Transient(format!(
                    "FCM refused the access token ({message}); a new one will be fetched"
                ))
            }
            (404, _) | (_, "UNREGISTERED") => ChannelError::Rejected(format!(
                "FCM: device {} is not registered ({message}); remove it from [notify.fcm] devices",
                crate::devices::short(&device)
            )),
            (s, _) => http::refusal("FCM", s, &format!("{code} {message}")),
        })
    }
}

impl Channel for Fcm {
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
        Box::pin(async move { fan_out(&self.devices, |device| self.send(out, None, device)).await })
    }

    /// Replaces the delivered notification (same Android tag) with who answered.
    fn withdraw<'a>(
        &'a self,
        out: &'a Outgoing,
        _receipt: &'a Receipt,
        why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            fan_out(&self.devices, |device| {
                self.send(out, Some(&why.text), device)
            })
            .await
            .map(|_| ())
        })
    }
}
