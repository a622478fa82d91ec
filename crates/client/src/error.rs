//! The one error type of the client, with a stable code ([`ClientError::code`]) the UI and
//! the app show states by (`unreachable`, `certificate_changed`, `revoked`, ...) and a message
//! written for a person: what happened and what to do next.

use paddock_proto::web::ApiErrorCode;
use std::path::PathBuf;

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The host's address is not an `https://host:port` URL.
    #[error("`{0}` is not a host address: use https://HOST:PORT, as `paddock pair` prints it")]
    InvalidUrl(String),
    /// Nothing answered at the address (refused, timed out, no route to it).
    #[error("cannot reach {url}: {source}. Check that `paddock up` runs there and that this machine can reach that address")]
    Unreachable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// This machine has no network to the host (no route, no address, name unknown).
    #[error("{url} is not reachable from here ({source}); check this machine's network or VPN")]
    Offline {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// The host presented another certificate than the one pinned at pairing. No request was
    /// sent. Either the host made a new certificate (then pair again) or someone else answers
    /// at that address.
    #[error("the certificate of {url} changed: pinned {pinned}, presented {presented}. Nothing was sent. If the host made a new certificate, pair again (`paddock remote rm` then `paddock remote add`); otherwise someone else answers at that address")]
    CertificateChanged {
        url: String,
        pinned: String,
        presented: String,
    },
    /// The TLS handshake failed for another reason: among them, a server presenting the
    /// pinned certificate without holding its private key (a bad handshake signature).
    #[error("the secure connection to {url} failed: {message}. Nothing was sent; the host may be an impostor, or not a Paddock host")]
    Tls { url: String, message: String },
    /// The host no longer accepts this device's tokens (revoked, or its refresh token spent).
    #[error("the host {host} no longer accepts this device (revoked, or its token expired). Pair again: `paddock remote rm {host}` then `paddock remote add` with a new code")]
    Revoked { host: String },
    /// The host refused or failed the request; `code` is the host's stable code.
    #[error("{message}")]
    Api {
        status: u16,
        code: ApiErrorCode,
        message: String,
    },
    /// The host answered something this client does not understand.
    #[error("the host answered something unexpected: {0}. Check that both sides run the same Paddock version")]
    Protocol(String),
    /// A pairing link or short code that cannot be read.
    #[error("{0}")]
    BadPairingLink(String),
    /// No known host has this name.
    #[error("no known host is called `{0}`; `paddock remote ls` lists them, `paddock remote add` adds one")]
    UnknownHost(String),
    /// A known host already has this name.
    #[error("a host called `{0}` is already known; choose another name with --name, or remove it first (`paddock remote rm {0}`)")]
    HostExists(String),
    /// The list of hosts or a token file could not be read or written.
    #[error("cannot use {path}: {source}")]
    Storage {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The list of hosts is not valid JSON.
    #[error("{path} is damaged ({message}); fix or remove it, then add the hosts again")]
    BadHostsFile { path: PathBuf, message: String },
    /// The OS keychain refused.
    #[error("the keychain refused: {0}")]
    Keychain(String),
    /// The host answered too late.
    #[error("{0} did not answer in time; check that the host runs and is reachable")]
    Timeout(String),
    /// The stream was closed (by `close`, or for good after the host went away).
    #[error("the connection to the host is closed")]
    Closed,
}

impl ClientError {
    /// A stable code for programs and the UI (never match on messages): `invalid_url`,
    /// `unreachable`, `offline`, `certificate_changed`, `tls_failed`, `revoked`,
    /// `protocol`, `bad_pairing_link`, `unknown_host`, `host_exists`, `storage`, `keychain`,
    /// `timeout`, `closed`, or the host's own code (`forbidden`, `not_found`,
    /// `unauthorized`, `pairing_failed`, `session_exited`, ...: see `ApiErrorCode`).
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::InvalidUrl(_) => "invalid_url",
            ClientError::Unreachable { .. } => "unreachable",
            ClientError::Offline { .. } => "offline",
            ClientError::CertificateChanged { .. } => "certificate_changed",
            ClientError::Tls { .. } => "tls_failed",
            ClientError::Revoked { .. } => "revoked",
            ClientError::Api { code, .. } => code.as_str(),
            ClientError::Protocol(_) => "protocol",
            ClientError::BadPairingLink(_) => "bad_pairing_link",
            ClientError::UnknownHost(_) => "unknown_host",
            ClientError::HostExists(_) => "host_exists",
            ClientError::Storage { .. } | ClientError::BadHostsFile { .. } => "storage",
            ClientError::Keychain(_) => "keychain",
            ClientError::Timeout(_) => "timeout",
            ClientError::Closed => "closed",
        }
    }

    /// Whether trying again later may work (the network, the host restarting), as opposed
    /// to a refusal that needs the user (revoked, certificate changed, forbidden...).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. }
            | ClientError::Offline { .. }
            | ClientError::Timeout(_)
            | ClientError::Closed => true,
            ClientError::Api { code, .. } => matches!(
                code,
                ApiErrorCode::RateLimited | ApiErrorCode::Unavailable | ApiErrorCode::Internal
            ),
            _ => false,
        }
    }

    pub(crate) fn api(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<paddock_proto::web::ErrorBody>(body) {
            Ok(b) => ClientError::Api {
                status,
                code: b.error.code,
                message: b.error.message,
            },
            Err(_) => ClientError::Api {
                status,
                code: match status {
                    401 => ApiErrorCode::Unauthorized,
                    403 => ApiErrorCode::Forbidden,
                    404 => ApiErrorCode::NotFound,
                    413 => ApiErrorCode::PayloadTooLarge,
                    429 => ApiErrorCode::RateLimited,
                    400..=499 => ApiErrorCode::BadRequest,
                    503 => ApiErrorCode::Unavailable,
                    _ => ApiErrorCode::Internal,
                },
                message: format!(
                    "the host answered HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                ),
            },
        }
    }
}
