//! The tools that reach the owner: `notify_owner` (a notification on their channels),
//! `ask_owner` (a question that waits at most `MAX_WAIT`, then leaves a ticket) and
//! `get_answer` (the answer to that ticket).

use super::{PaddockMcp, ToolResult, MAX_TEXT, MAX_WAIT};
use paddock_proto::agent::{AnswerChannel, Decision};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Arguments of `notify_owner`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NotifyArgs {
    /// A short title.
    pub title: String,
    /// What the owner should know.
    #[serde(default)]
    pub body: String,
}

/// `notify_owner`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct NotifyResult {
    pub notification: String,
    pub detail: String,
}

/// Arguments of `ask_owner`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AskArgs {
    /// The question.
    pub question: String,
    /// Answers to choose from (the owner may also write their own).
    #[serde(default)]
    pub choices: Vec<String>,
    /// Seconds to wait for the answer, 0..=45 (default 40); past it the result carries a
    /// ticket for `get_answer`.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// Arguments of `get_answer`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TicketArgs {
    /// The ticket `ask_owner` returned.
    pub ticket: String,
}

/// `ask_owner` and `get_answer`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AskResult {
    /// Whether the owner has answered.
    pub answered: bool,
    /// The owner's answer (a choice's label or their own words).
    pub answer: Option<String>,
    /// For `get_answer` when not answered yet.
    pub ticket: String,
    pub detail: String,
}

#[tool_router(router = owner_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Send your owner a notification (desktop, phone, the channels they set up)."
    )]
    async fn notify_owner(&self, args: Parameters<NotifyArgs>) -> ToolResult<NotifyResult> {
        let args = args.0;
        if args.title.trim().is_empty() || args.title.len() > 200 || args.body.len() > MAX_TEXT {
            return Err(format!(
                "the title must be 1..=200 bytes and the body at most {MAX_TEXT}; shorten them"
            ));
        }
        let view = self
            .caller
            .session
            .as_ref()
            .and_then(|id| self.handle.registry().get(id));
        let draft = crate::notify::rules::Draft {
            kind: paddock_proto::notify::NotificationKind::Custom,
            rule: "mcp".into(),
            title: args.title,
            body: args.body,
            request: None,
        };
        let n = crate::notify::component::dispatch(&self.handle, draft, view.as_ref());
        let result = Ok(NotifyResult {
            notification: n.id.clone(),
            detail: "sent to the owner's notification channels".into(),
        });
        result.map(Json)
    }

    #[tool(
        description = "Ask your owner a question (with optional choices); it reaches them as a notification and in Paddock's approvals. Waits up to timeout_secs (at most 45) and returns the answer, or a ticket for get_answer."
    )]
    async fn ask_owner(&self, args: Parameters<AskArgs>) -> ToolResult<AskResult> {
        let args = args.0;
        if args.question.trim().is_empty() || args.question.len() > MAX_TEXT {
            return Err(format!("the question must be 1..={MAX_TEXT} bytes"));
        }
        if args.choices.len() > 8
            || args
                .choices
                .iter()
                .any(|c| c.trim().is_empty() || c.len() > 200)
        {
            return Err("give at most 8 choices, each 1..=200 bytes".into());
        }
        let Some(session) = self.caller.session.clone() else {
            return Err(
                "ask_owner needs a Paddock session to ask from; start the agent with `paddock run`"
                    .into(),
            );
        };
        let input = serde_json::json!({
            "questions": [{
                "question": args.question,
                "header": "Question",
                "options": args.choices.iter().map(|c| serde_json::json!({"label": c})).collect::<Vec<_>>(),
                "multiSelect": false,
            }],
        });
        let (request, mut waiter) =
            self.handle
                .permissions()
                .open(crate::permissions::NewRequest {
                    session,
                    agent_session: None,
                    tool: "AskUserQuestion".into(),
                    input,
                    suggestions: Vec::new(),
                    channel: AnswerChannel::Hook,
                    timeout: self.handle.config().agents.permission_timeout,
                });
        let wait = Duration::from_secs(args.timeout_secs.unwrap_or(40).min(MAX_WAIT.as_secs()));
        match tokio::time::timeout(wait, &mut waiter).await {
            Ok(Ok(decision)) => Ok(Json(answer_of(&request.id, Some(&decision)))),
            Ok(Err(_)) => Err("the question was withdrawn before the owner answered".into()),
            Err(_) => {
                self.asks.keep(request.id.clone(), waiter);
                Ok(Json(answer_of(&request.id, None)))
            }
        }
    }

    #[tool(
        description = "The owner's answer to an earlier ask_owner, by its ticket.",
        annotations(read_only_hint = true)
    )]
    async fn get_answer(&self, args: Parameters<TicketArgs>) -> ToolResult<AskResult> {
        let ticket = args.0.ticket;
        let request = self
            .handle
            .permissions()
            .get(&ticket)
            .filter(|r| {
                r.tool == "AskUserQuestion" && Some(&r.session) == self.caller.session.as_ref()
            })
            .ok_or_else(|| {
                format!("no question `{ticket}` of yours; ask_owner gives the ticket")
            })?;
        let decision = match &request.outcome {
            Some(paddock_proto::agent::PermissionOutcome::Decided { decision, .. }) => {
                Some(decision)
            }
            Some(paddock_proto::agent::PermissionOutcome::Withdrawn { reason, .. }) => {
                return Err(format!("the question was withdrawn: {reason}"))
            }
            None => None,
        };
        Ok(Json(answer_of(&ticket, decision)))
    }
}

fn answer_of(ticket: &str, decision: Option<&Decision>) -> AskResult {
    match decision {
        Some(Decision::Answer { answers }) => {
            let answer = answers.values().next().cloned();
            AskResult {
                answered: true,
                detail: format!("the owner answered: {}", answer.clone().unwrap_or_default()),
                answer,
                ticket: ticket.to_owned(),
            }
        }
        Some(Decision::Deny { message }) => AskResult {
            answered: true,
            answer: None,
            detail: format!(
                "the owner declined to answer{}",
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            ticket: ticket.to_owned(),
        },
        Some(other) => AskResult {
            answered: true,
            answer: None,
            detail: format!("the owner {} without an answer", other.verb()),
            ticket: ticket.to_owned(),
        },
        None => AskResult {
            answered: false,
            answer: None,
            detail: format!("no answer yet; call get_answer with ticket {ticket} later"),
            ticket: ticket.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_carries_the_owners_words_or_says_there_is_none_yet() {
        let mut answers = std::collections::BTreeMap::new();
        answers.insert("Ship it?".to_owned(), "yes".to_owned());
        let a = answer_of("p3", Some(&Decision::Answer { answers }));
        assert!(a.answered);
        assert_eq!(a.answer.as_deref(), Some("yes"));
        let pending = answer_of("p3", None);
        assert!(!pending.answered && pending.detail.contains("get_answer with ticket p3"));
        let denied = answer_of(
            "p3",
            Some(&Decision::Deny {
                message: Some("later".into()),
            }),
        );
        assert!(denied.answered && denied.answer.is_none() && denied.detail.contains("later"));
    }
}
