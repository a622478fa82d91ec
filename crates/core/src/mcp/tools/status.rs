//! `set_status`: an agent tells its owner what it works on and how far it got. Stored on its
//! own session's view (`agent_status`), so `paddock ls`/`show`, REST, the UI and the tray
//! show it beside the state the supervisor observes. An agent sets its own session's only;
//! an orchestrator may set another's (e.g. for a worker that has no MCP).

use super::{PaddockMcp, ToolResult};
use paddock_proto::access::Permission;
use paddock_proto::supervisor::AgentStatus;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Most bytes of a task or a message.
const MAX_LINE: usize = 500;

/// Progress, as steps or as a percentage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ProgressArg {
    /// Steps: `{"done": 3, "total": 7}`.
    Steps { done: u32, total: u32 },
    /// `{"percent": 40}`, 0..=100.
    Percent { percent: u8 },
}

/// Arguments of `set_status`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StatusArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// The task you work on, e.g. "Migrate the store to v3" (at most 500 bytes).
    #[serde(default)]
    pub task: Option<String>,
    /// How far you got: {"done": 3, "total": 7} or {"percent": 40}.
    #[serde(default)]
    pub progress: Option<ProgressArg>,
    /// What you do right now, one short line (at most 500 bytes).
    #[serde(default)]
    pub message: Option<String>,
}

/// `set_status`'s result.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StatusResult {
    pub session: String,
    /// As the owner sees it now.
    pub shown: String,
}

/// A line given by the model: trimmed, non-empty, not too long.
fn line(what: &str, text: Option<String>) -> Result<Option<String>, String> {
    let Some(text) = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.len() > MAX_LINE {
        return Err(format!(
            "the {what} is {} bytes; keep it to {MAX_LINE}",
            text.len()
        ));
    }
    Ok(Some(text))
}

/// The status `args` describe, checked.
pub fn status_of(args: StatusArgs, at: String) -> Result<AgentStatus, String> {
    let (done, total, percent) = match args.progress {
        None => (None, None, None),
        Some(ProgressArg::Percent { percent }) if percent > 100 => {
            return Err(format!("percent is {percent}; give 0..=100"))
        }
        Some(ProgressArg::Percent { percent }) => (None, None, Some(percent)),
        Some(ProgressArg::Steps { done, total }) if total == 0 || done > total => {
            return Err(format!(
                "progress {done} of {total} cannot be; give done ≤ total and total ≥ 1"
            ))
        }
        Some(ProgressArg::Steps { done, total }) => (
            Some(done),
            Some(total),
            u8::try_from(u64::from(done) * 100 / u64::from(total)).ok(),
        ),
    };
    let status = AgentStatus {
        task: line("task", args.task)?,
        done,
        total,
        percent,
        message: line("message", args.message)?,
        at,
    };
    if status.task.is_none() && status.percent.is_none() && status.message.is_none() {
        return Err("give at least one of task, progress or message".into());
    }
    Ok(status)
}

#[tool_router(router = status_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Tell your owner what you work on and how far you got: task, progress ({done, total} or {percent}) and a short message. Shown beside your session in Paddock (CLI, UI, tray); replaces the previous status."
    )]
    async fn set_status(&self, args: Parameters<StatusArgs>) -> ToolResult<StatusResult> {
        self.caller.need(Permission::Input)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let status = status_of(args, crate::permissions::now_text())?;
        let shown = status.line();
        self.handle
            .registry()
            .set_agent_status(&view.id, status)
            .ok_or_else(|| format!("session {} has ended; its status is not kept", view.name))?;
        Ok(Json(StatusResult {
            session: view.name,
            shown,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: serde_json::Value) -> StatusArgs {
        serde_json::from_value(v).expect("arguments")
    }

    #[test]
    fn steps_become_a_percentage_and_the_line_shows_all_parts() {
        let s = status_of(
            args(serde_json::json!({"task": "Port the store", "progress": {"done": 3, "total": 7}, "message": "tests"})),
            "t".into(),
        )
        .expect("valid");
        assert_eq!(s.percent, Some(42));
        assert_eq!(s.line(), "Port the store · 3/7 (42%) · tests");
        let p = status_of(
            args(serde_json::json!({"progress": {"percent": 40}})),
            "t".into(),
        )
        .expect("valid");
        assert_eq!(p.line(), "40%");
    }

    #[test]
    fn impossible_progress_and_empty_statuses_are_refused_with_what_to_give() {
        let e = status_of(
            args(serde_json::json!({"progress": {"done": 8, "total": 7}})),
            "t".into(),
        )
        .expect_err("8 of 7");
        assert!(e.contains("done ≤ total"), "{e}");
        let e = status_of(
            args(serde_json::json!({"progress": {"percent": 140}})),
            "t".into(),
        )
        .expect_err("140%");
        assert!(e.contains("0..=100"), "{e}");
        let e = status_of(args(serde_json::json!({"task": "  "})), "t".into()).expect_err("empty");
        assert!(e.contains("at least one"), "{e}");
        let e = status_of(
            args(serde_json::json!({"task": "x".repeat(501)})),
            "t".into(),
        )
        .expect_err("long");
        assert!(e.contains("keep it to 500"), "{e}");
    }
}
