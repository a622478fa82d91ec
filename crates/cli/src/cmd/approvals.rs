//! `paddock approvals`, `approve`, `deny`: permission requests of every agent, answered from
//! the command line.

use crate::remote_client::{self, HostArg};
use crate::supervisor_client::{actor, request};
use anyhow::{bail, Context};
use paddock_proto::agent::{Decision, PermissionOutcome, PermissionRequest};
use paddock_proto::rest::DecideRequest;
use paddock_proto::{Request, Response};

/// List the permission requests agents are waiting on.
#[derive(clap::Args)]
pub struct ListArgs {
    /// One JSON array: objects with id, session, tool, input, created_at (and the rest of the
    /// request: suggestions, expires_at, channel, outcome).
    #[arg(long)]
    pub json: bool,
    /// Include recently decided and withdrawn requests.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

/// Allow a tool to run: the agent goes on at once.
#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The request's id (`paddock approvals` lists them).
    pub id: String,
    /// Allow always: apply one of the agent's suggested rules (0 = the first) so it stops
    /// asking for this.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "0")]
    pub always: Option<usize>,
    /// Answer a question (an agent's AskUserQuestion, an MCP caller's `ask_owner`): TEXT
    /// (a choice's label or your own words) answers each of its questions.
    #[arg(long, value_name = "TEXT", conflicts_with = "always")]
    pub answer: Option<String>,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

/// Refuse a tool; the agent is told why.
#[derive(clap::Args)]
pub struct DenyArgs {
    /// The request's id (`paddock approvals` lists them).
    pub id: String,
    /// What the agent is told (default: that its owner denied it).
    #[arg(long, short)]
    pub message: Option<String>,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

async fn list(remote: &HostArg, all: bool) -> anyhow::Result<Vec<PermissionRequest>> {
    if let Some(client) = remote.client()? {
        let path = if all {
            "/permissions?all=true"
        } else {
            "/permissions"
        };
        return Ok(client.get(path).await?);
    }
    match request(Request::Permissions { all }).await? {
        Response::Permissions { requests } => Ok(requests),
        other => bail!("the supervisor answered {other:?} to a list of permission requests"),
    }
}

impl ListArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let requests = list(&self.remote, self.all).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&requests)?);
            return Ok(());
        }
        if requests.is_empty() {
            println!("no agent is waiting for permission");
            return Ok(());
        }
        println!(
            "{:<6} {:<14} {:<10} {:<25} WHAT",
            "ID", "SESSION", "TOOL", "ASKED"
        );
        for r in requests {
            let what = summary(&r);
            let status = match &r.outcome {
                None => String::new(),
                Some(PermissionOutcome::Decided { decision, by, .. }) => {
                    format!("  [{} by {by}]", decision.verb())
                }
                Some(PermissionOutcome::Withdrawn { reason, .. }) => format!("  [{reason}]"),
            };
            println!(
                "{:<6} {:<14} {:<10} {:<25} {what}{status}",
                r.id, r.session, r.tool, r.created_at
            );
        }
        Ok(())
    }
}

/// One line saying what the tool would do.
fn summary(r: &PermissionRequest) -> String {
    if let Some(q) = r.questions.first() {
        let choices: Vec<&str> = q.options.iter().map(|o| o.label.as_str()).collect();
        return if choices.is_empty() {
            q.question.clone()
        } else {
            format!("{} [{}]", q.question, choices.join(" / "))
        };
    }
    let input = &r.input;
    let text = ["command", "file_path", "path", "url", "pattern", "detail"]
        .iter()
        .find_map(|k| input.get(*k).and_then(|v| v.as_str()))
        .map(str::to_owned)
        .unwrap_or_else(|| input.to_string());
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line.to_owned()
    }
}

async fn decide(
    remote: &HostArg,
    id: String,
    decision: Decision,
) -> anyhow::Result<PermissionRequest> {
    if let Some(client) = remote.client()? {
        let path = format!(
            "/permissions/{}/decide",
            remote_client::session_path(&id).trim_start_matches("/sessions/")
        );
        return Ok(client.post(&path, &DecideRequest { decision }).await?);
    }
    match request(Request::Decide {
        request: id,
        decision,
        by: actor(),
    })
    .await?
    {
        Response::Permission { request } => Ok(*request),
        other => bail!("the supervisor answered {other:?} to a decision"),
    }
}

impl ApproveArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let decision = match (self.always, &self.answer) {
            (_, Some(text)) => {
                let request = list(&self.remote, false)
                    .await?
                    .into_iter()
                    .find(|r| r.id == self.id)
                    .with_context(|| {
                        format!(
                            "no pending request `{}`; `paddock approvals` lists them",
                            self.id
                        )
                    })?;
                if request.questions.is_empty() {
                    bail!(
                        "request {} ({}) asks no question; approve or deny it",
                        request.id,
                        request.tool
                    );
                }
                Decision::Answer {
                    answers: request
                        .questions
                        .iter()
                        .map(|q| (q.question.clone(), text.clone()))
                        .collect(),
                }
            }
            (Some(i), None) => Decision::AllowAlways { suggestion: i },
            (None, None) => Decision::Allow,
        };
        let r = decide(&self.remote, self.id, decision.clone()).await?;
        println!("{} {}: {} in {}", decision.verb(), r.id, r.tool, r.session);
        Ok(())
    }
}

impl DenyArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let r = decide(
            &self.remote,
            self.id,
            Decision::Deny {
                message: self.message,
            },
        )
        .await?;
        println!("denied {}: {} in {}", r.id, r.tool, r.session);
        Ok(())
    }
}
