//! Routes that talk to agents: messages and control, permission decisions, insight,
//! thinking, transcripts, and the history of past agent sessions.

use super::{audited, blocking, session_id};
use crate::app::{ApiJson, ApiPath, ApiQuery, AppState, Caller};
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use paddock_proto::agent::{Control, HistoryPage, MessageReceipt, PermissionRequest};
use paddock_proto::insight::{SessionInsight, ThinkingView, TranscriptPage};
use paddock_proto::rest::{DecideRequest, MessageRequest};
use paddock_proto::supervisor::SessionView;
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use serde::Deserialize;

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
