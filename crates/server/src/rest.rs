//! The REST handlers under `/api/v1`: each is a thin adapter over `paddock_core` (the
//! handle, `control`, `access`). Access rules are in [`crate::app::ROUTES`].

use crate::app::{audit, AppState, Caller};
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::Json;
use paddock_core::access::AuditInput;
pub use paddock_proto::rest::{
    DecideRequest, InputRequest, Me, MessageRequest, PairRequest, RefreshRequest,
};
use paddock_proto::web::ErrorBody;
use paddock_proto::SessionId;
use serde::Serialize;

mod agents;
mod auth;
mod devices;
mod sessions;
mod system;

pub use agents::*;
pub use auth::*;
pub use devices::*;
pub use sessions::*;
pub use system::*;

/// `{"ok": true}`.
#[derive(Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Done {
    pub ok: bool,
}

fn done() -> Json<Done> {
    Json(Done { ok: true })
}

pub(crate) fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        ApiError::internal("the request failed inside the endpoint; see the supervisor's log")
    })?
}

async fn audited<T>(
    st: &AppState,
    caller: &Caller,
    action: &str,
    target: String,
    r: Result<T, ApiError>,
) -> Result<T, ApiError> {
    audit(
        st,
        AuditInput {
            actor: caller.0.actor(),
            device_id: Some(caller.0.device_id.clone()),
            action: action.to_owned(),
            target: Some(target),
            result: if r.is_ok() { "ok" } else { "failed" }.to_owned(),
            detail: r.as_ref().err().map(|e| e.message.clone()),
        },
    )
    .await;
    r
}

/// 404 for unknown API paths (the UI gets the rest).
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API route; the API is described at /api/v1/openapi.json")
}

pub async fn method_not_allowed() -> (StatusCode, Json<ErrorBody>) {
    let e = ApiError::bad_request("this route does not take that method; see /api/v1/openapi.json");
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(ErrorBody {
            error: paddock_proto::web::ErrorDetail {
                code: e.code,
                message: e.message,
            },
        }),
    )
}
