//! `GET /api/v1/sessions/{id}/conversation` (a page of turns, newest first by cursor) and
//! `GET /api/v1/sessions/{id}/conversation/turns/{index}` (one turn whole): thin adapters of
//! `paddock_core::transcripts::Transcripts::conversation_page` / `conversation_turn`, for
//! viewers and up like the transcript route. Live changes go out on the WebSocket as
//! `conversation_update`.

use crate::app::{ApiPath, ApiQuery, AppState};
use crate::error::ApiError;
use crate::rest::{blocking, session_id};
use axum::extract::State;
use axum::Json;
use paddock_core::transcripts::ConversationError;
use paddock_proto::conversation::{ConversationPage, Turn};
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use paddock_proto::SessionId;
use serde::Deserialize;

/// `GET /api/v1/sessions/{id}/conversation`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConversationParams {
    /// The newest turns keyed before this (a page's `older`); without it, the newest.
    pub before: Option<u64>,
    /// At most this many turns (1..=200, default 30).
    pub limit: Option<u32>,
}

fn error(e: ConversationError) -> ApiError {
    match e {
        ConversationError::NoTranscript(_) | ConversationError::NoTurn { .. } => {
            ApiError::not_found(e.to_string())
        }
        ConversationError::Unsupported(_) => {
            ApiError::new(ApiErrorCode::Unsupported, e.to_string())
        }
        ConversationError::Read(_) => ApiError::new(ApiErrorCode::Unavailable, e.to_string()),
    }
}

fn known(st: &AppState, raw: &str) -> Result<SessionId, ApiError> {
    let id = session_id(raw)?;
    if st.handle.registry().get(&id).is_none() {
        return Err(ApiError::not_found(format!(
            "no session `{id}`; GET /api/v1/sessions lists them"
        )));
    }
    Ok(id)
}

fn transcripts(st: &AppState) -> Result<paddock_core::transcripts::Transcripts, ApiError> {
    st.handle.transcripts().cloned().ok_or_else(|| {
        ApiError::new(
            ApiErrorCode::Unavailable,
            "the supervisor follows no transcripts (it is starting, or could not start its transcript watcher: see GET /api/v1/system/status)",
        )
    })
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/conversation", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ConversationParams),
    responses((status = 200, body = ConversationPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn page(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<ConversationParams>,
) -> Result<Json<ConversationPage>, ApiError> {
    let id = known(&st, &id)?;
    let limit = p.limit.unwrap_or(30);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1..=200"));
    }
    let t = transcripts(&st)?;
    blocking(move || {
        t.conversation_page(&id, p.before, limit as usize)
            .map_err(error)
    })
    .await
    .map(Json)
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/conversation/turns/{index}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ("index" = u64, Path, description = "the turn's key (its `index` in a page)")),
    responses((status = 200, body = Turn), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn turn(
    State(st): State<AppState>,
    ApiPath((id, index)): ApiPath<(String, String)>,
) -> Result<Json<Turn>, ApiError> {
    let id = known(&st, &id)?;
    let index: u64 = index.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "`{index}` is not a turn's key: use the `index` of a turn in a page"
        ))
    })?;
    let t = transcripts(&st)?;
    blocking(move || t.conversation_turn(&id, index).map_err(error))
        .await
        .map(Json)
}
