//! Session routes: list, start (with a worktree or in the background), read, type, resize,
//! signal, restart and remove sessions, and the processes they run.

use super::{audited, done, session_id, Done};
use crate::app::{ApiJson, ApiPath, ApiQuery, AppState, Caller};
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use paddock_core::start::StartRequest;
use paddock_proto::rest::InputRequest;
use paddock_proto::supervisor::{ProcessView, SessionView};
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use paddock_proto::{Request, Signal, Size};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SignalRequest {
    pub signal: Signal,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RemoveParams {
    /// Kill a running session first.
    #[serde(default)]
    pub force: bool,
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
