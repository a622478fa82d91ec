//! Authentication routes: pairing with a secret or code, refreshing tokens, `me`.

use super::blocking;
use crate::app::{audit, ApiJson, AppState, Caller};
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use paddock_core::access::AuditInput;
use paddock_proto::access::TokenGrant;
use paddock_proto::rest::{Me, PairRequest, RefreshRequest};
use paddock_proto::web::{ApiErrorCode, ErrorBody};

#[utoipa::path(post, path = "/api/v1/pair", tag = "auth", request_body = PairRequest,
    responses((status = 200, body = TokenGrant), (status = 401, body = ErrorBody),
              (status = 400, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 503, body = ErrorBody)))]
pub async fn pair(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(req): ApiJson<PairRequest>,
) -> Result<Json<TokenGrant>, ApiError> {
    let access = st.handle.access().clone();
    let name = req.device_name.clone();
    let r = blocking(move || {
        access
            .claim(&req.secret, &req.device_name)
            .map_err(ApiError::from)
    })
    .await;
    audit(
        &st,
        AuditInput {
            actor: format!("ip:{}", addr.ip()),
            device_id: r.as_ref().ok().map(|g| g.device_id.clone()),
            action: "device.pair".into(),
            target: Some(name),
            result: if r.is_ok() { "ok" } else { "unauthenticated" }.into(),
            detail: r.as_ref().err().map(|e| e.message.clone()),
        },
    )
    .await;
    r.map(Json)
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenGrant), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn refresh(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenGrant>, ApiError> {
    let access = st.handle.access();
    // Rotating writes the new token's hash (and a reuse revokes the device): off the runtime.
    let r = {
        let access = access.clone();
        blocking(move || access.refresh(&req.refresh_token).map_err(ApiError::from)).await
    };
    if let Err(e) = &r {
        let written = st.refusals.record(
            access,
            addr.ip(),
            crate::refusals::Refusal {
                result: "unauthenticated",
                ..crate::refusals::Refusal::new(
                    "auth.refresh",
                    "POST /api/v1/auth/refresh",
                    e.message.clone(),
                )
            },
        );
        if let Some(w) = written {
            let _ = w.await;
        }
    }
    r.map(Json)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(st): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let device = st
        .handle
        .access()
        .device(&caller.0.device_id)
        .ok_or_else(|| ApiError::new(ApiErrorCode::Unauthorized, "this device is not paired"))?;
    Ok(Json(Me {
        permissions: caller.0.role.permissions(),
        device,
    }))
}
