//! The tools that read what a session shows: `read_screen` (its terminal screen as text) and
//! `read_transcript` (a page of its conversation, from its agent's transcript). Raw output by
//! byte offset is `read_output` (`mcp/output.rs`).

use super::sessions::SessionArgs;
use super::{PaddockMcp, ToolResult};
use paddock_proto::access::Permission;
use paddock_proto::{Request, Response};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `read_screen`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ScreenText {
    pub session: String,
    /// The terminal's title.
    pub title: String,
    /// The screen, one string per row, trailing blanks trimmed.
    pub rows: Vec<String>,
    /// The output offset the screen reflects.
    pub offset: u64,
}

/// Arguments of `read_transcript`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TranscriptArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// Turns before this turn index (a page's `older`); without it, the newest.
    #[serde(default)]
    pub before: Option<u64>,
    /// At most this many turns (1..=50, default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `read_transcript`: a page of the conversation model (turns, newest last).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TranscriptPage {
    pub session: String,
    pub page: serde_json::Value,
}

#[tool_router(router = reading_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "The session's terminal screen as text, one string per row.",
        annotations(read_only_hint = true)
    )]
    async fn read_screen(&self, args: Parameters<SessionArgs>) -> ToolResult<ScreenText> {
        self.caller.need(Permission::Read)?;
        let view = self.target(args.0.session.as_deref())?;
        match self
            .handle
            .session_request(&view.id, Request::Screen)
            .await
            .map_err(|e| e.to_string())?
        {
            Response::Screen {
                rows,
                offset,
                title,
            } => Ok(Json(ScreenText {
                session: view.id.to_string(),
                title,
                rows: rows.into_iter().map(|r| r.trim_end().to_owned()).collect(),
                offset,
            })),
            other => Err(format!(
                "the session's holder answered {other:?} instead of its screen; try again"
            )),
        }
    }

    #[tool(
        description = "A page of the session's conversation (turns with prompts, replies, tool calls and results), from its agent's transcript.",
        annotations(read_only_hint = true)
    )]
    async fn read_transcript(
        &self,
        args: Parameters<TranscriptArgs>,
    ) -> ToolResult<TranscriptPage> {
        self.caller.need(Permission::Read)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let limit = args.limit.unwrap_or(10).clamp(1, 50) as usize;
        let handle = self.handle.clone();
        let id = view.id.clone();
        let page = tokio::task::spawn_blocking(move || {
            handle
                .transcripts()
                .ok_or_else(|| "transcripts are not followed on this host".to_owned())?
                .conversation_page(&id, args.before, limit)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| {
            "reading the transcript failed inside the supervisor; see its log".to_owned()
        })??;
        Ok(Json(TranscriptPage {
            session: view.id.to_string(),
            page: serde_json::to_value(page).map_err(|e| e.to_string())?,
        }))
    }
}
