//! `[notify.ntfy]`, `[notify.slack]`, `[notify.discord]`, `[notify.webhook]`, `[notify.email]`,
//! `[notify.apns]`, `[notify.fcm]`: the sections of the channels that reach the owner through
//! a service (paddock-channels builds the channels from them). Each is off until the owner
//! turns it on and fills it in. Every secret can be given inline (a [`Secret`], redacted in
//! `Debug`) or, better, as a `*_file` path to a file of its own (0600) that `config.toml`
//! only names.

use super::config::Secret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// ntfy (ntfy.sh or a self-hosted server): messages with Approve / Deny buttons whose answers
/// come back through a reply topic the host subscribes to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NtfyConfig {
    pub enabled: bool,
    /// The server, e.g. `https://ntfy.sh` or `https://ntfy.example.com`.
    pub url: String,
    /// The topic the phone subscribes to (letters, digits, `-` and `_`; pick one nobody
    /// guesses: on ntfy.sh the topic is the password).
    pub topic: String,
    /// The topic the buttons publish their answers to, which Paddock subscribes to. Default:
    /// `<topic>-answers`.
    pub reply_topic: Option<String>,
    /// An access token (`tk_...`) for servers with access control.
    pub token: Secret,
    pub token_file: Option<PathBuf>,
    /// A PEM certificate to trust besides the system's (a self-hosted server with a
    /// certificate of its own).
    pub ca_file: Option<PathBuf>,
}

impl Default for NtfyConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            url: "https://ntfy.sh".into(),
            topic: String::new(),
            reply_topic: None,
            token: Secret::default(),
            token_file: None,
            ca_file: None,
        }
    }
}

/// A Slack or Discord incoming webhook: the notification, formatted for the service, with a
/// link into the UI.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ChatWebhookConfig {
    pub enabled: bool,
    /// The webhook's URL (it is its own credential: a secret).
    pub webhook_url: Secret,
    pub webhook_url_file: Option<PathBuf>,
}

/// A webhook of the owner's own: a JSON POST signed with HMAC-SHA256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    pub enabled: bool,
    pub url: String,
    /// The shared secret the signature is made with (at least 16 characters).
    pub secret: Secret,
    pub secret_file: Option<PathBuf>,
    /// A PEM certificate to trust besides the system's.
    pub ca_file: Option<PathBuf>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (usually port 587); refused if the server
    /// does not offer it.
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// Email over SMTP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Secret,
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Paddock <paddock@example.com>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// A PEM certificate to trust besides the system's (a server with its own certificate).
    pub ca_file: Option<PathBuf>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: None,
            password: Secret::default(),
            password_file: None,
            from: String::new(),
            to: Vec::new(),
            ca_file: None,
        }
    }
}

/// Apple Push Notification service, token-based, for a mobile app the owner builds and
/// signs with their own Apple developer key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApnsConfig {
    pub enabled: bool,
    /// `https://api.push.apple.com`, or `https://api.sandbox.push.apple.com` for
    /// development builds.
    pub base_url: String,
    /// The Apple developer team id (the JWT's `iss`).
    pub team_id: String,
    /// The key's id (the JWT's `kid`).
    pub key_id: String,
    /// The `.p8` key file downloaded from Apple.
    pub key_file: Option<PathBuf>,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// The device tokens to notify (hex, from the app).
    pub devices: Vec<String>,
    /// A PEM certificate to trust besides the system's.
    pub ca_file: Option<PathBuf>,
}

impl Default for ApnsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: "https://api.push.apple.com".into(),
            team_id: String::new(),
            key_id: String::new(),
            key_file: None,
            topic: String::new(),
            devices: Vec::new(),
            ca_file: None,
        }
    }
}

/// Firebase Cloud Messaging HTTP v1, for a mobile app the owner builds with their own
/// Firebase project.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FcmConfig {
    pub enabled: bool,
    /// `https://fcm.googleapis.com`.
    pub base_url: String,
    /// The service account's JSON key file (from the Firebase console).
    pub service_account_file: Option<PathBuf>,
    /// The project; default: the service account's `project_id`.
    pub project_id: Option<String>,
    /// Where the service account's assertion is exchanged for an access token; default:
    /// the key file's `token_uri`.
    pub token_url: Option<String>,
    /// The registration tokens of the devices to notify (from the app).
    pub devices: Vec<String>,
    /// A PEM certificate to trust besides the system's.
    pub ca_file: Option<PathBuf>,
}

impl Default for FcmConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: "https://fcm.googleapis.com".into(),
            service_account_file: None,
            project_id: None,
            token_url: None,
            devices: Vec::new(),
            ca_file: None,
        }
    }
}
