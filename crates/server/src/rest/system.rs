//! System routes: `/health`, the supervisor's status, `paddock doctor`'s checks, metrics and
//! the activity log.

use super::{blocking, session_id};
use crate::app::{ApiQuery, AppState, EndpointMetrics};
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use paddock_proto::doctor::DoctorReport;
use paddock_proto::supervisor::{ComponentHealth, HealthStatus, SupervisorStatus};
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use paddock_proto::SessionId;
use serde::{Deserialize, Serialize};

/// `/health`: public and minimal.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub version: String,
    pub components: Vec<ComponentHealth>,
}

/// `/api/v1/system/metrics`.
#[derive(Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SystemMetrics {
    pub endpoint: EndpointMetrics,
    pub sessions: u32,
    pub running: u32,
    /// CPU of every session's process tree, percent of one core.
    pub sessions_cpu: f32,
    /// Resident memory of every session's process tree, bytes.
    #[ts(type = "number")]
    pub sessions_rss: u64,
}

/// `GET /api/v1/system/logs`: newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LogsParams {
    /// At most this many entries (1..=1000, default 200).
    pub limit: Option<u32>,
    /// Entries older than this id (for paging back).
    pub before: Option<i64>,
    /// Only entries at this level or above: debug, info, warn, error.
    pub level: Option<String>,
    /// Only this session's entries.
    pub session: Option<String>,
}

/// One entry of the activity log.
#[derive(Debug, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct LogRecord {
    #[ts(type = "number")]
    pub id: i64,
    /// RFC 3339, UTC.
    pub time: String,
    pub session: Option<SessionId>,
    /// debug, info, warn or error.
    pub level: String,
    /// A short machine-readable kind: `state`, `tool_use`, `permission_request`, ...
    pub kind: String,
    pub message: String,
}

#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = HealthReport), (status = 429, body = ErrorBody)))]
pub async fn health(State(st): State<AppState>) -> Json<HealthReport> {
    let h = st.handle.health();
    Json(HealthReport {
        status: h.overall(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        components: h.components(),
    })
}

#[utoipa::path(get, path = "/api/v1/system/status", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = SupervisorStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn status(State(st): State<AppState>) -> Json<SupervisorStatus> {
    Json(st.handle.status())
}

#[utoipa::path(get, path = "/api/v1/system/doctor", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = DoctorReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
/// `paddock doctor`'s checks as the supervisor sees them (admin: it names paths and versions).
pub async fn doctor(State(st): State<AppState>) -> Json<DoctorReport> {
    Json(st.handle.doctor().await)
}

#[utoipa::path(get, path = "/api/v1/system/metrics", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = SystemMetrics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn metrics(State(st): State<AppState>) -> Json<SystemMetrics> {
    let sessions = st.handle.sessions();
    Json(SystemMetrics {
        endpoint: st.metrics.snapshot(),
        sessions: sessions.len() as u32,
        running: sessions.iter().filter(|s| s.is_running()).count() as u32,
        sessions_cpu: sessions.iter().filter_map(|s| s.cpu).sum(),
        sessions_rss: sessions.iter().filter_map(|s| s.rss).sum(),
    })
}

#[utoipa::path(get, path = "/api/v1/system/logs", tag = "system", security(("bearer" = [])),
    params(LogsParams),
    responses((status = 200, body = Vec<LogRecord>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn logs(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<LogsParams>,
) -> Result<Json<Vec<LogRecord>>, ApiError> {
    use paddock_store::{ActivityQuery, Level};
    let level = match p.level.as_deref() {
        None => None,
        Some(l) => Some(Level::parse(l).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown level `{l}`: use debug, info, warn or error"
            ))
        })?),
    };
    let session = p.session.as_deref().map(session_id).transpose()?;
    let limit = p.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1..=1000"));
    }
    let handle = st.handle.clone();
    blocking(move || {
        let store = handle.store().ok_or_else(|| {
            ApiError::new(
                ApiErrorCode::Unavailable,
                "the database is not open, so there is no stored log; `paddock status` says why",
            )
        })?;
        let query = ActivityQuery {
            session,
            level,
            before_id: p.before,
            limit: Some(limit),
            ..ActivityQuery::default()
        };
        let records = store.activity(&query).map_err(|e| {
            ApiError::new(
                ApiErrorCode::Unavailable,
                format!("cannot read the log: {e}"),
            )
        })?;
        Ok(records
            .into_iter()
            .map(|r| LogRecord {
                id: r.id.unwrap_or_default(),
                time: humantime::format_rfc3339_millis(r.time.to_system_time()).to_string(),
                session: r.session,
                level: r.level.as_str().to_owned(),
                kind: r.kind,
                message: r.message,
            })
            .collect())
    })
    .await
    .map(Json)
}
