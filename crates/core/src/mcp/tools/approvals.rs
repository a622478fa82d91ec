//! The tools over permission requests: `list_approvals` (an orchestrator sees every
//! session's, an agent its own) and `answer_approval` (an orchestrator answers another
//! session's, never one of its own).

use super::{PaddockMcp, ToolResult};
use crate::mcp::caller::Profile;
use paddock_proto::access::Permission;
use paddock_proto::agent::{Decision, PermissionRequest};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `list_approvals`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalList {
    pub requests: Vec<serde_json::Value>,
}

/// Arguments of `answer_approval`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnswerArgs {
    /// The request's id, e.g. `p3`.
    pub request: String,
    /// allow, allow_always, or deny.
    pub decision: String,
    /// With deny: what the agent is told.
    #[serde(default)]
    pub message: Option<String>,
}

/// `answer_approval`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AnswerResult {
    pub detail: String,
    pub request: serde_json::Value,
}

#[tool_router(router = approvals_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Pending permission requests: an orchestrator sees every session's, an agent its own.",
        annotations(read_only_hint = true)
    )]
    async fn list_approvals(&self) -> ToolResult<ApprovalList> {
        self.caller.need(Permission::Read)?;
        let requests = self
            .handle
            .permissions()
            .list(false)
            .into_iter()
            .filter(|r| {
                self.caller.profile == Profile::Orchestrator
                    || self.caller.session.as_ref() == Some(&r.session)
            })
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect();
        Ok(Json(ApprovalList { requests }))
    }

    #[tool(
        description = "Answer another session's permission request (orchestrator only; never one of your own session): allow, allow_always or deny (with a message)."
    )]
    async fn answer_approval(&self, args: Parameters<AnswerArgs>) -> ToolResult<AnswerResult> {
        self.caller.need(Permission::Control)?;
        let args = args.0;
        let request = self
            .handle
            .permissions()
            .get(&args.request)
            .ok_or_else(|| {
                format!(
                    "no permission request `{}`; list_approvals lists them",
                    args.request
                )
            })?;
        let result = self.answer(&request, &args).await;
        result.map(Json)
    }
}

impl PaddockMcp {
    async fn answer(
        &self,
        request: &PermissionRequest,
        args: &AnswerArgs,
    ) -> Result<AnswerResult, String> {
        self.require_orchestrator("answering a permission request")?;
        if self.caller.session.as_ref() == Some(&request.session) {
            return Err(format!(
                "refused: request {} is your own session's; an orchestrator never answers its own requests (the owner does, with `paddock approve {}`)",
                request.id, request.id
            ));
        }
        let decision = match args.decision.as_str() {
            "allow" => Decision::Allow,
            "allow_always" => Decision::AllowAlways { suggestion: 0 },
            "deny" => Decision::Deny {
                message: args.message.clone(),
            },
            other => {
                return Err(format!(
                    "`{other}` is not a decision; use allow, allow_always or deny"
                ))
            }
        };
        let decided =
            crate::control::decide(&self.handle, &request.id, decision, &self.caller.actor)
                .await
                .map_err(|e| e.to_string())?;
        Ok(AnswerResult {
            detail: format!(
                "request {} {}",
                decided.id,
                match &decided.outcome {
                    Some(paddock_proto::agent::PermissionOutcome::Decided { decision, .. }) =>
                        decision.verb(),
                    _ => "answered",
                }
            ),
            request: serde_json::to_value(&decided).map_err(|e| e.to_string())?,
        })
    }
}
