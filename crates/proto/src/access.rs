//! Who may do what through the endpoint: roles and their permissions, paired devices, pairing
//! offers, tokens and the audit log. Used by the supervisor (`paddock-core`, which decides),
//! the endpoint (`paddock-server`, which serves it) and the CLI (`paddock pair`, `devices`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A paired device's id, e.g. `dev-3kq9x0ab`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(transparent)]
pub struct DeviceId(pub String);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a device may do. Each role includes everything of the roles below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Lists sessions and their states; nothing else.
    Guest,
    /// Reads everything, terminal output included; no input, no control.
    Viewer,
    /// Starts, stops and controls sessions, answers permissions, sends messages and input.
    Operator,
    /// Everything, devices and settings included.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Guest, Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The permissions this role grants.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }

    /// Whether this role grants `p`.
    pub fn allows(self, p: Permission) -> bool {
        self >= p.least_role()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a role.
#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}`: use one of admin, operator, viewer, guest")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "guest" => Ok(Role::Guest),
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// One thing a request or a message may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// List sessions and their states.
    SessionsList,
    /// Read details: processes, terminal output, events, system status, metrics, logs.
    Read,
    /// Type into terminals, resize them, send messages.
    Input,
    /// Signal, stop, restart, start and remove sessions; answer permission requests.
    Control,
    /// Pair, list, rename and revoke devices; read the audit log; change settings.
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::SessionsList,
        Permission::Read,
        Permission::Input,
        Permission::Control,
        Permission::Admin,
    ];

    /// The least role that has this permission.
    pub fn least_role(self) -> Role {
        match self {
            Permission::SessionsList => Role::Guest,
            Permission::Read => Role::Viewer,
            Permission::Input | Permission::Control => Role::Operator,
            Permission::Admin => Role::Admin,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::SessionsList => "sessions_list",
            Permission::Read => "read",
            Permission::Input => "input",
            Permission::Control => "control",
            Permission::Admin => "admin",
        }
    }
}

/// A paired device as the owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct DeviceView {
    pub id: DeviceId,
    pub name: String,
    pub role: Role,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; the last authenticated request or message (updated at most once a minute).
    pub last_seen_at: Option<String>,
    /// RFC 3339, UTC; set once the device was revoked: its tokens no longer work.
    pub revoked_at: Option<String>,
}

/// A one-time pairing offer: what `paddock pair` shows and the QR code carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct PairingOffer {
    /// The endpoint's base URL, e.g. `https://192.168.1.20:7420`.
    pub url: String,
    /// SHA-256 of the endpoint's certificate (DER), lowercase hex; clients pin it.
    pub fingerprint: String,
    /// The one-time secret (base64url, 256 bits); single use.
    pub secret: String,
    /// The same offer as a short code to type (`XXXX-XXXX`); single use.
    pub code: String,
    /// What the QR code carries: `url` + `/#pair=` + secret + `&fp=` + fingerprint.
    pub pair_url: String,
    /// The role the paired device will have.
    pub role: Role,
    /// RFC 3339, UTC; after this the secret and the code are refused.
    pub expires_at: String,
}

/// What a client gets when it pairs or refreshes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct TokenGrant {
    pub device_id: DeviceId,
    pub role: Role,
    /// A signed token (JWT, HS256) for `Authorization: Bearer` and the WebSocket's `auth`.
    pub access_token: String,
    /// RFC 3339, UTC.
    pub access_expires_at: String,
    /// A long-lived secret that gets new access tokens from `/api/v1/auth/refresh` until the
    /// device is revoked. Keep it like a password.
    pub refresh_token: String,
}

/// One audited action: who, from which device, did what to what, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct AuditEntry {
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub id: i64,
    /// RFC 3339 with milliseconds, UTC.
    pub time: String,
    /// `owner` (the local user, through the CLI), `device:<id>`, or the peer address of an
    /// unauthenticated caller, e.g. `ip:192.168.1.7`.
    pub actor: String,
    pub device_id: Option<DeviceId>,
    /// e.g. `session.signal`, `device.revoke`, `auth.denied`.
    pub action: String,
    pub target: Option<String>,
    /// `ok`, `denied`, `unauthenticated`, `failed`, `rate_limited`.
    pub result: String,
    /// A short explanation (the error message, the signal sent...).
    pub detail: Option<String>,
}
