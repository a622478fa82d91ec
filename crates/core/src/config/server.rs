//! The `[server]` section: the endpoint's address, TLS, tokens and limits.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The endpoint: HTTPS REST and WSS for the UI, the apps and browsers on other devices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Serve the endpoint at all.
    pub enabled: bool,
    /// The address to listen on. Loopback (`127.0.0.1`) by default; a LAN or tailnet address
    /// (or `0.0.0.0`) opens it to other devices, always with TLS and tokens.
    pub listen: String,
    /// The TCP port (0: any free port, see `paddock status`).
    pub port: u16,
    /// Plain HTTP instead of TLS, for development: refused unless `listen` is loopback.
    pub insecure_http: bool,
    /// Requests per minute per client address before 429 (WebSocket upgrades count too).
    pub requests_per_minute: u32,
    /// Pairing attempts per minute per client address.
    pub pairing_attempts_per_minute: u32,
    /// How long a pairing offer (its secret and short code) can be used.
    #[serde(with = "humantime_serde")]
    pub pairing_ttl: Duration,
    /// How long an access token lasts; clients refresh it with their refresh token.
    #[serde(with = "humantime_serde")]
    pub access_token_ttl: Duration,
    /// How long a refresh token still works after it was rotated, for requests racing with
    /// the rotation (two tabs, a retry). Used again after that, it revokes its device (a
    /// copy is in someone else's hands). At least 1 s.
    #[serde(
        serialize_with = "humantime_serde::serialize",
        deserialize_with = "refresh_grace"
    )]
    pub refresh_grace: Duration,
    /// Browser origins besides the endpoint's own that may call it (e.g. the desktop app's
    /// `tauri://localhost`). Never a wildcard.
    pub allowed_origins: Vec<String>,
    /// Bytes of terminal input per second one WebSocket may send.
    pub ws_input_bytes_per_second: u32,
    /// The largest WebSocket message accepted, in bytes.
    pub ws_max_message_bytes: u32,
    /// Time a new connection has to finish its TLS handshake and each request's headers;
    /// a client that dawdles longer (a slowloris) is disconnected.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// Connections one client address may hold open at once; more are closed at accept.
    pub max_connections_per_address: u32,
    /// Refusals (bad tokens, foreign origins, rate limits, handshakes) written to the audit
    /// log per client address per minute; more are counted and noted in the next entry, so a
    /// flood cannot fill the disk.
    pub audited_refusals_per_minute: u32,
    /// A certificate of the owner's own (PEM, leaf first, then its chain), e.g. a tailnet
    /// HTTPS certificate: browsers trust it, so service workers (Web Push) work. With `key`;
    /// without both, a self-signed certificate is made and pinned through pairing.
    pub cert: Option<std::path::PathBuf>,
    /// The private key of `cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<std::path::PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1".into(),
            port: 7420,
            insecure_http: false,
            requests_per_minute: 100,
            pairing_attempts_per_minute: 5,
            pairing_ttl: Duration::from_secs(300),
            access_token_ttl: Duration::from_secs(900),
            refresh_grace: crate::access::ROTATION_GRACE,
            allowed_origins: Vec::new(),
            ws_input_bytes_per_second: 1 << 20,
            ws_max_message_bytes: 1 << 20,
            header_timeout: Duration::from_secs(10),
            max_connections_per_address: 64,
            audited_refusals_per_minute: 30,
            cert: None,
            key: None,
        }
    }
}

/// The shortest `server.refresh_grace`: a client's own retry must fit in it.
pub const MIN_REFRESH_GRACE: Duration = Duration::from_secs(1);

/// `server.refresh_grace`, refused below [`MIN_REFRESH_GRACE`].
fn refresh_grace<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let grace: Duration = humantime_serde::deserialize(d)?;
    if grace < MIN_REFRESH_GRACE {
        return Err(serde::de::Error::custom(format!(
            "server.refresh_grace is {}, below its floor of 1s: a client retrying a refresh \
             would revoke its own device; set it to \"1s\" or more (default \"60s\")",
            humantime::format_duration(grace)
        )));
    }
    Ok(grace)
}
