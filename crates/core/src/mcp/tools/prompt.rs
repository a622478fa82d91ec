//! `approval_prompt`: the permission prompt of a non-interactive `claude -p`, which cannot
//! show one. Started with `--permission-prompt-tool mcp__paddock__approval_prompt`, Claude
//! Code calls it with `{tool_name, input, tool_use_id}` before a tool that needs permission;
//! it becomes an ordinary Paddock permission request (`paddock approvals`, the UI, every
//! notification channel; the session waits for permission meanwhile) and the owner's
//! answer goes back as the one text block Claude Code expects:
//! `{"behavior":"allow","updatedInput":{..}}` or `{"behavior":"deny","message":".."}`.
//!
//! It waits at most 45 s (a tool call over HTTP is cut after 60 s without a first byte);
//! unanswered by then, the request is withdrawn and the model is told so, as a denial it
//! can read and act on (ask again later, or go on without the tool).

use super::{PaddockMcp, MAX_WAIT};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

/// What Claude Code sends its permission prompt tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PromptArgs {
    /// The tool it wants to run, e.g. `Bash`.
    pub tool_name: String,
    /// That tool's input.
    #[serde(default)]
    pub input: Value,
    /// The call's id in the conversation.
    #[serde(default)]
    pub tool_use_id: Option<String>,
}

/// The permission prompt tool's answer, from a Claude Code hook output's decision.
pub fn answer(hook_output: Option<&Value>, input: &Value, waited: &str) -> Value {
    let decision = hook_output.map(|o| &o["hookSpecificOutput"]["decision"]);
    match decision.and_then(|d| d["behavior"].as_str()) {
        Some("allow") => {
            let mut out = json!({"behavior": "allow", "updatedInput": input});
            if let Some(d) = decision {
                for key in ["updatedInput", "updatedPermissions"] {
                    if !d[key].is_null() {
                        out[key] = d[key].clone();
                    }
                }
            }
            out
        }
        Some("deny") => json!({
            "behavior": "deny",
            "message": decision
                .and_then(|d| d["message"].as_str())
                .unwrap_or("the owner denied this through Paddock"),
        }),
        _ => json!({
            "behavior": "deny",
            "message": format!("the owner did not answer within {waited}, so Paddock withdrew the request; ask again later, or go on without this tool"),
        }),
    }
}

#[tool_router(router = prompt_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Permission prompt for `claude -p --permission-prompt-tool mcp__paddock__approval_prompt`: asks the owner through Paddock whether a tool may run and returns {behavior: allow, updatedInput} or {behavior: deny, message}. Not for models to call."
    )]
    async fn approval_prompt(&self, args: Parameters<PromptArgs>) -> String {
        let args = args.0;
        let Some(session) = self.caller.session.clone() else {
            return json!({
                "behavior": "deny",
                "message": "Paddock cannot ask the owner: this agent runs in no Paddock session; start it with `paddock run`",
            })
            .to_string();
        };
        tracing::debug!(tool = %args.tool_name, tool_use_id = ?args.tool_use_id, "claude -p asks permission through approval_prompt");
        let ask = crate::agents::PermissionAsk {
            tool: args.tool_name,
            input: args.input.clone(),
            suggestions: Vec::new(),
            agent_session: None,
        };
        let waited = humantime::format_duration(MAX_WAIT).to_string();
        let output = crate::hooks::permission_within(
            &self.handle,
            session,
            ask,
            MAX_WAIT,
            "the agent was told to ask again later",
        )
        .await;
        answer(output.as_ref(), &args.input, &waited).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(decision: Value) -> Value {
        json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}})
    }

    #[test]
    fn an_allow_carries_the_input_and_a_deny_its_message_in_claude_codes_format() {
        let input = json!({"command": "ls"});
        assert_eq!(
            answer(Some(&hook(json!({"behavior": "allow"}))), &input, "45s"),
            json!({"behavior": "allow", "updatedInput": {"command": "ls"}})
        );
        let answered = json!({"questions": [], "answers": {"Q?": "yes"}});
        assert_eq!(
            answer(
                Some(&hook(
                    json!({"behavior": "allow", "updatedInput": answered})
                )),
                &input,
                "45s"
            )["updatedInput"]["answers"]["Q?"],
            "yes"
        );
        assert_eq!(
            answer(
                Some(&hook(json!({"behavior": "deny", "message": "not on main"}))),
                &input,
                "45s"
            ),
            json!({"behavior": "deny", "message": "not on main"})
        );
    }

    #[test]
    fn no_answer_in_time_is_a_denial_that_says_why_and_what_to_do() {
        let out = answer(None, &json!({}), "45s");
        assert_eq!(out["behavior"], "deny");
        let message = out["message"].as_str().expect("message");
        assert!(
            message.contains("within 45s") && message.contains("ask again later"),
            "{message}"
        );
    }
}
