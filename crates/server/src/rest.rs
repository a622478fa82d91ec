//! The REST handlers under `/api/v1`: each is a thin adapter over `paddock_core` (the
//! handle, `control`, `access`). Access rules are in [`crate::app::ROUTES`].

use crate::app::{audit, ApiJson, ApiPath, ApiQuery, AppState, Caller, EndpointMetrics};
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use paddock_core::access::AuditInput;
use paddock_core::start::StartRequest;
use paddock_proto::access::{AuditEntry, DeviceId, DeviceView, PairingOffer, Role, TokenGrant};
use paddock_proto::agent::{Control, HistoryPage, MessageReceipt, PermissionRequest};
use paddock_proto::doctor::DoctorReport;
use paddock_proto::insight::{SessionInsight, ThinkingView, TranscriptPage};
pub use paddock_proto::rest::{
    DecideRequest, InputRequest, Me, MessageRequest, PairRequest, RefreshRequest,
};
use paddock_proto::supervisor::{
    ComponentHealth, HealthStatus, ProcessView, SessionView, SupervisorStatus,
};
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use paddock_proto::{Request, SessionId, Signal, Size};
use serde::{Deserialize, Serialize};

/// `/health`: public and minimal.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub version: String,
    pub components: Vec<ComponentHealth>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CreatePairingRequest {
    pub role: Role,
    /// Seconds the offer lasts (default: server.pairing_ttl, at most a day).
    #[ts(type = "number | null")]
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SignalRequest {
    pub signal: Signal,
}

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RenameRequest {
    pub name: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RemoveParams {
    /// Kill a running session first.
    #[serde(default)]
    pub force: bool,
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

/// `POST /api/v1/sessions`: what to start.
#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct StartSessionRequest {
    /// The program and its arguments, e.g. `["claude", "--model", "sonnet"]`.
    pub command: Vec<String>,
    /// A name to refer to the session by (default: the program's name, made unique).
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    /// An absolute directory to start in (default: the supervisor's home directory).
    #[serde(default)]
    #[ts(optional)]
    pub cwd: Option<String>,
    /// Environment variables set for the program.
    #[serde(default)]
    #[ts(optional)]
    pub env: Option<std::collections::BTreeMap<String, String>>,
    /// The terminal's size (default 120×40; the first client to type sets its own).
    #[serde(default)]
    #[ts(optional)]
    pub size: Option<Size>,
    /// Leave out Paddock's hooks for Claude Code and Codex.
    #[serde(default)]
    #[ts(optional)]
    pub no_hooks: Option<bool>,
    /// Keep the variables a parent Claude Code session left in the supervisor's environment
    /// (CLAUDECODE, CLAUDE_CODE_*_FILE_DESCRIPTOR...); by default they are removed.
    #[serde(default)]
    #[ts(optional)]
    pub keep_nested_env: Option<bool>,
    /// A prompt: start a Claude Code background agent (`claude --bg PROMPT`, run by Claude's
    /// own daemon, listed as `cbg-<id>`) in `cwd` instead of a program (give `command: []`).
    #[serde(default)]
    #[ts(optional)]
    pub background: Option<String>,
    // worktrees (issue 16): begin
    /// Start in a new git worktree of `cwd`'s repository: `""` (or `true`) for a new branch
    /// named after the session, else the branch to check out (made when it does not exist).
    #[serde(default, deserialize_with = "worktree_option")]
    #[ts(optional, type = "string | boolean")]
    #[schema(value_type = Option<String>)]
    pub worktree: Option<Option<String>>,
    // worktrees (issue 16): end
}

// worktrees (issue 16): begin
/// `worktree`: a branch name, `""` or `true` (a new branch named after the session), `false`
/// or null (none).
fn worktree_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Flag(bool),
        Branch(String),
    }
    Ok(match Option::<Given>::deserialize(d)? {
        None | Some(Given::Flag(false)) => None,
        Some(Given::Flag(true)) => Some(None),
        Some(Given::Branch(b)) if b.trim().is_empty() => Some(None),
        Some(Given::Branch(b)) => Some(Some(b)),
    })
}
// worktrees (issue 16): end

/// `GET /api/v1/processes`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProcessesParams {
    /// Only this session's processes.
    pub session: Option<String>,
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

/// `GET /api/v1/history`: past agent sessions, or a search over their prompts and answers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryParams {
    /// Words to search for, all of which must appear (taken literally); `"a phrase"`,
    /// `word*` (a prefix) and `a OR b` also work. Without it (or blank): past sessions.
    pub q: Option<String>,
    /// At most this many sessions or hits (1..=500, default 100).
    pub limit: Option<u32>,
    /// Skip this many (the previous page's `next_offset`).
    pub offset: Option<u32>,
    /// Only this agent's sessions (`claude`, `codex`); lists only.
    pub agent: Option<String>,
    /// Only sessions that worked in this folder (exactly); lists only.
    pub cwd: Option<String>,
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

#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = ErrorBody)))]
pub async fn sessions(State(st): State<AppState>) -> Json<Vec<SessionView>> {
    Json(st.handle.with_git(st.handle.sessions()).await)
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])),
    request_body = StartSessionRequest,
    responses((status = 201, body = SessionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn start_session(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<StartSessionRequest>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    if let Some(prompt) = req.background.clone() {
        let r = start_background(&st, &prompt, req.cwd).await;
        let view = audited(
            &st,
            &caller,
            "session.start",
            format!("claude --bg {prompt:?}"),
            r,
        )
        .await?;
        return Ok((StatusCode::CREATED, Json(view)));
    }
    let target = req.command.join(" ");
    let r = start_request(req);
    let r = match r {
        Ok(req) => st.handle.start_session(req).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let view = audited(&st, &caller, "session.start", target, r).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `claude --bg PROMPT` in `cwd` (default: the supervisor's home directory).
async fn start_background(
    st: &AppState,
    prompt: &str,
    cwd: Option<String>,
) -> Result<SessionView, ApiError> {
    let cwd = match cwd {
        Some(cwd) => std::path::PathBuf::from(cwd),
        None => std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "give `cwd`: the supervisor has no home directory to default to",
                )
            })?,
    };
    st.handle
        .start_background(prompt, &cwd)
        .await
        .map_err(|e| paddock_core::terminal::TerminalError::from(e).into())
}

/// The core request for a REST one, with the endpoint's defaults.
fn start_request(req: StartSessionRequest) -> Result<StartRequest, ApiError> {
    let mut parts = req.command.into_iter();
    let command = parts.next().unwrap_or_default();
    let cwd = match req.cwd {
        Some(cwd) => std::path::PathBuf::from(cwd),
        None => std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "give `cwd`: the supervisor has no home directory to default to",
                )
            })?,
    };
    Ok(StartRequest {
        name: req.name,
        env: req.env.unwrap_or_default().into_iter().collect(),
        size: req.size.unwrap_or(Size {
            cols: 120,
            rows: 40,
        }),
        hooks: !req.no_hooks.unwrap_or(false),
        keep_nested_env: req.keep_nested_env.unwrap_or(false),
        // The supervisor sets the directory from its configuration.
        worktree: req
            .worktree
            .map(|branch| paddock_core::worktree::WorktreeRequest {
                branch,
                root: Default::default(),
            }),
        ..StartRequest::new(command, parts.collect(), cwd)
    })
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn session(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionView>, ApiError> {
    let id = session_id(&id)?;
    let view = st.handle.registry().get(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no session `{id}`; GET /api/v1/sessions lists them"
        ))
    })?;
    Ok(Json(st.handle.view_with_git(view).await))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/input", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")), request_body = InputRequest,
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn input(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<InputRequest>,
) -> Result<Json<Done>, ApiError> {
    let id = session_id(&id)?;
    let mut data = req.data.into_bytes();
    if req.enter {
        data.push(b'\r');
    }
    if data.len() > 256 * 1024 {
        return Err(ApiError::new(
            ApiErrorCode::PayloadTooLarge,
            "at most 256 KiB of input per request",
        ));
    }
    let r = st
        .handle
        .send_input(&id, &data)
        .await
        .map_err(ApiError::from);
    audited(&st, &caller, "session.input", id.to_string(), r).await?;
    Ok(done())
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/resize", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")), request_body = Size,
    responses((status = 200, body = Done), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resize(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(size): ApiJson<Size>,
) -> Result<Json<Done>, ApiError> {
    let id = session_id(&id)?;
    if !size.is_valid() {
        return Err(ApiError::bad_request(format!(
            "{size} is outside {}..{}",
            Size::MIN,
            Size::MAX
        )));
    }
    st.handle
        .session_request(&id, Request::Resize { size })
        .await?;
    Ok(done())
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/signal", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")), request_body = SignalRequest,
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn signal(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<SignalRequest>,
) -> Result<Json<Done>, ApiError> {
    let id = session_id(&id)?;
    let r = st
        .handle
        .signal_session(&id, req.signal)
        .await
        .map_err(ApiError::from);
    audited(
        &st,
        &caller,
        &format!("session.signal.{}", req.signal),
        id.to_string(),
        r,
    )
    .await?;
    Ok(done())
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/restart", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn restart(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Done>, ApiError> {
    let id = session_id(&id)?;
    let r = st
        .handle
        .session_request(&id, Request::Restart)
        .await
        .map_err(ApiError::from);
    audited(&st, &caller, "session.restart", id.to_string(), r).await?;
    Ok(done())
}

#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), RemoveParams),
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<RemoveParams>,
) -> Result<Json<Done>, ApiError> {
    let id = session_id(&id)?;
    let r = st
        .handle
        .session_request(&id, Request::Remove { force: p.force })
        .await
        .map_err(ApiError::from);
    audited(&st, &caller, "session.remove", id.to_string(), r).await?;
    Ok(done())
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

#[utoipa::path(get, path = "/api/v1/processes", tag = "sessions", security(("bearer" = [])),
    params(ProcessesParams),
    responses((status = 200, body = Vec<ProcessView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn processes(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<ProcessesParams>,
) -> Result<Json<Vec<ProcessView>>, ApiError> {
    let session = p.session.as_deref().map(session_id).transpose()?;
    if let Some(id) = &session {
        if st.handle.registry().get(id).is_none() {
            return Err(ApiError::not_found(format!(
                "no session `{id}`; GET /api/v1/sessions lists them"
            )));
        }
    }
    Ok(Json(st.handle.registry().processes(session.as_ref())))
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

#[utoipa::path(get, path = "/api/v1/history", tag = "history", security(("bearer" = [])),
    params(HistoryParams),
    responses((status = 200, body = HistoryPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<HistoryPage>, ApiError> {
    use paddock_store::{HistoryQuery, StoreError};
    let limit = p.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1..=500 (got {limit}); page with offset for more"
        )));
    }
    let offset = p.offset.unwrap_or(0);
    let search = p.q.filter(|q| !q.trim().is_empty());
    if search.is_some() && (p.agent.is_some() || p.cwd.is_some()) {
        return Err(ApiError::bad_request(
            "agent and cwd filter the list of sessions, not a search: leave out q or the filters",
        ));
    }
    let handle = st.handle.clone();
    blocking(move || {
        let store = handle.store().ok_or_else(|| {
            ApiError::new(
                ApiErrorCode::Unavailable,
                "the database is not open, so there is no history; `paddock status` says why",
            )
        })?;
        let failed = |e: StoreError| match e {
            StoreError::BadSearch(m) => ApiError::bad_request(m),
            e => ApiError::new(
                ApiErrorCode::Unavailable,
                format!("cannot read the history: {e}"),
            ),
        };
        // One more than asked tells whether another page follows.
        let next = |n: usize| (n > limit as usize).then(|| offset.saturating_add(limit));
        Ok(match search {
            Some(query) => {
                let mut hits = store
                    .search_history_page(&query, limit + 1, offset)
                    .map_err(failed)?;
                let next_offset = next(hits.len());
                hits.truncate(limit as usize);
                HistoryPage::Hits {
                    query,
                    hits,
                    next_offset,
                }
            }
            None => {
                let mut sessions = store
                    .history_sessions(&HistoryQuery {
                        agent: p.agent,
                        cwd: p.cwd,
                        limit: limit + 1,
                        offset,
                    })
                    .map_err(failed)?;
                let next_offset = next(sessions.len());
                sessions.truncate(limit as usize);
                HistoryPage::Sessions {
                    sessions,
                    next_offset,
                }
            }
        })
    })
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PermissionsParams {
    /// Recently decided and withdrawn requests too, not only pending ones.
    #[serde(default)]
    pub all: bool,
}

/// Who a device is in the agents' and the audit log's words: its name and id.
fn by(st: &AppState, caller: &Caller) -> String {
    match st.handle.access().device(&caller.0.device_id) {
        Some(d) => format!("{} ({})", d.name, d.id),
        None => caller.0.actor(),
    }
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/message", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id or name")), request_body = MessageRequest,
    responses((status = 200, body = MessageReceipt), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn message(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<MessageRequest>,
) -> Result<Json<MessageReceipt>, ApiError> {
    let who = by(&st, &caller);
    let r = match paddock_core::delivery::How::new(req.timeout_ms, req.typed) {
        Ok(how) => paddock_core::delivery::message(&st.handle, &id, &req.text, &who, how).await,
        Err(e) => Err(e),
    }
    .map_err(ApiError::from);
    audited(&st, &caller, "session.message", id, r)
        .await
        .map(Json)
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/control", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id or name")), request_body = Control,
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn control(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(action): ApiJson<Control>,
) -> Result<Json<SessionView>, ApiError> {
    let who = by(&st, &caller);
    let name = format!("session.{}", action.name());
    let r = paddock_core::control::control(&st.handle, &id, action, &who)
        .await
        .map_err(ApiError::from);
    audited(&st, &caller, &name, id, r).await.map(Json)
}

#[utoipa::path(get, path = "/api/v1/permissions", tag = "permissions", security(("bearer" = [])),
    params(PermissionsParams),
    responses((status = 200, body = Vec<PermissionRequest>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn permissions(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<PermissionsParams>,
) -> Json<Vec<PermissionRequest>> {
    Json(st.handle.permissions().list(p.all))
}

#[utoipa::path(post, path = "/api/v1/permissions/{id}/decide", tag = "permissions", security(("bearer" = [])),
    params(("id" = String, Path, description = "permission request id")), request_body = DecideRequest,
    responses((status = 200, body = PermissionRequest), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<DecideRequest>,
) -> Result<Json<PermissionRequest>, ApiError> {
    let who = by(&st, &caller);
    let action = format!("permission.{}", req.decision.verb().replace(' ', "_"));
    let r = paddock_core::control::decide(&st.handle, &id, req.decision, &who)
        .await
        .map_err(ApiError::from);
    audited(&st, &caller, &action, id, r).await.map(Json)
}

fn insight_of(st: &AppState, raw: &str) -> Result<SessionInsight, ApiError> {
    let id = session_id(raw)?;
    if st.handle.registry().get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "no session `{id}`; GET /api/v1/sessions lists them"
        )));
    }
    st.handle.insight(&id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no transcript is known for session `{id}` (yet): Paddock reads the transcripts of the agents it knows (Claude Code, Codex)"
        ))
    })
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/insight", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SessionInsight), (status = 404, body = ErrorBody)))]
pub async fn insight(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SessionInsight>, ApiError> {
    insight_of(&st, &id).map(Json)
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/thinking", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = ThinkingView), (status = 404, body = ErrorBody)))]
pub async fn thinking(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ThinkingView>, ApiError> {
    insight_of(&st, &id).map(|i| Json(i.thinking))
}

/// `GET /api/v1/sessions/{id}/transcript`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TranscriptParams {
    /// Lines from this byte offset (a `next` of an earlier page) instead of the tail.
    pub after: Option<u64>,
    /// At most this many lines (1..=1000, default 200); without `after`, the last ones.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/transcript", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), TranscriptParams),
    responses((status = 200, body = TranscriptPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn transcript(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<TranscriptParams>,
) -> Result<Json<TranscriptPage>, ApiError> {
    use paddock_core::transcripts::{read_page, PageError, PageStart};
    let id = session_id(&id)?;
    if st.handle.registry().get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "no session `{id}`; GET /api/v1/sessions lists them"
        )));
    }
    let limit = p.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1..=1000"));
    }
    let path = st
        .handle
        .transcripts()
        .and_then(|t| t.path(&id))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "session `{id}` has no transcript Paddock follows: its agent has not said where it writes one (or it is not an agent)"
            ))
        })?;
    let start = p
        .after
        .map_or(PageStart::Tail(limit as usize), PageStart::After);
    blocking(move || {
        read_page(&path, start, limit as usize).map_err(|e| match e {
            PageError::PastEnd { .. } => ApiError::bad_request(e.to_string()),
            PageError::NotJsonl(_) => ApiError::new(ApiErrorCode::Unsupported, e.to_string()),
            PageError::Io { .. } => ApiError::new(ApiErrorCode::Unavailable, e.to_string()),
        })
    })
    .await
    .map(Json)
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
