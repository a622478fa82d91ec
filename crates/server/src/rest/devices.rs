//! Device routes: listing, renaming and revoking paired devices, pairing offers, the audit
//! log.

use super::{audited, blocking};
use crate::app::{ApiJson, ApiPath, ApiQuery, AppState, Caller};
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use paddock_proto::access::{AuditEntry, DeviceId, DeviceView, PairingOffer, Role};
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CreatePairingRequest {
    pub role: Role,
    /// Seconds the offer lasts (default: server.pairing_ttl, at most a day).
    #[ts(type = "number | null")]
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RenameRequest {
    pub name: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// At most this many entries (1..=1000, default 100).
    pub limit: Option<u32>,
    /// Entries older than this id (for paging).
    pub before: Option<i64>,
    /// Only this device's entries.
    pub device: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeviceView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn devices(State(st): State<AppState>) -> Json<Vec<DeviceView>> {
    Json(st.handle.access().devices())
}

#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices", security(("bearer" = [])),
    params(("id" = String, Path, description = "device id")), request_body = RenameRequest,
    responses((status = 200, body = DeviceView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rename_device(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> Result<Json<DeviceView>, ApiError> {
    let access = st.handle.access().clone();
    let target = id.clone();
    let r = blocking(move || {
        access
            .rename(&DeviceId(id), &req.name)
            .map_err(ApiError::from)
    })
    .await;
    audited(&st, &caller, "device.rename", target, r)
        .await
        .map(Json)
}

#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices", security(("bearer" = [])),
    params(("id" = String, Path, description = "device id")),
    responses((status = 200, body = DeviceView), (status = 404, body = ErrorBody)))]
pub async fn revoke_device(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceView>, ApiError> {
    let access = st.handle.access().clone();
    let target = id.clone();
    let r = blocking(move || access.revoke(&DeviceId(id)).map_err(ApiError::from)).await;
    audited(&st, &caller, "device.revoke", target, r)
        .await
        .map(Json)
}

#[utoipa::path(post, path = "/api/v1/pairing", tag = "devices", security(("bearer" = [])),
    request_body = CreatePairingRequest,
    responses((status = 200, body = PairingOffer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_pairing(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreatePairingRequest>,
) -> Result<Json<PairingOffer>, ApiError> {
    let ttl = match req.ttl_secs {
        Some(s) if s == 0 || s > 86_400 => {
            return Err(ApiError::bad_request("ttl_secs must be 1 to 86400"))
        }
        s => s.map(std::time::Duration::from_secs),
    };
    let r = st
        .handle
        .create_pairing(req.role, ttl)
        .map_err(|e| ApiError::new(ApiErrorCode::Unavailable, e.to_string()));
    audited(&st, &caller, "pairing.create", req.role.to_string(), r)
        .await
        .map(Json)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "devices", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let access = st.handle.access().clone();
    blocking(move || {
        access
            .audit_log(
                p.limit.unwrap_or(100),
                p.before,
                p.device.map(DeviceId).as_ref(),
            )
            .map_err(ApiError::from)
    })
    .await
    .map(Json)
}
