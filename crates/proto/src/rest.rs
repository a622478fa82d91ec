//! Bodies of the endpoint's REST routes that clients send or read: defined here rather than in
//! `paddock-server` so that the pinned client (`paddock-client`: the CLI's `--host`, the app)
//! uses the same types as the handlers without depending on the server. `paddock-server`
//! re-exports them from `rest`.

use crate::access::{DeviceView, Permission};
use crate::agent::Decision;
use serde::{Deserialize, Serialize};

/// Who the caller is and what it may do (for the UI to show only what works).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Me {
    pub device: DeviceView,
    pub permissions: Vec<Permission>,
}

/// `POST /api/v1/pair`: proves a pairing secret or short code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct PairRequest {
    /// The secret from the QR code, or the short code.
    pub secret: String,
    /// A name for this device, e.g. "Ana's phone".
    pub device_name: String,
}

/// `POST /api/v1/auth/refresh`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { refresh_token: <redacted> }")
    }
}

/// `POST /api/v1/sessions/{id}/message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct MessageRequest {
    /// Typed into the agent's prompt and submitted.
    pub text: String,
    /// How long to wait for a sign that the agent took it, in milliseconds (default 5000).
    #[serde(default)]
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub timeout_ms: Option<u64>,
    /// Type `text` exactly as given, then Enter (what `paddock send --enter` does).
    #[serde(default)]
    pub typed: bool,
}

/// `POST /api/v1/permissions/{id}/decide`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct DecideRequest {
    pub decision: Decision,
}

/// `POST /api/v1/sessions/{id}/input`: type into a session without attaching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct InputRequest {
    /// Text to type (UTF-8; escape sequences allowed).
    pub data: String,
    /// Press Enter after it.
    #[serde(default)]
    pub enter: bool,
}
