//! Claude Code's background agents from the CLI: thin calls to the supervisor, which runs
//! Claude's own commands (`core::agents::claude_bg`). Their sessions are `cbg-<id>`.

use crate::supervisor_client;
use paddock_proto::supervisor::SessionView;
use paddock_proto::{BgAction, Request, Response, SessionId};

/// The session `query` names, when it is a background agent the supervisor lists.
pub async fn find(query: &str) -> anyhow::Result<Option<SessionView>> {
    let Some(views) = supervisor_client::sessions().await? else {
        return Ok(None);
    };
    Ok(crate::target::pick(&views, query)
        .filter(|v| paddock_core::agents::claude_bg::ops::job_id(&v.id).is_some())
        .cloned())
}

fn one(answer: Response, what: &str) -> anyhow::Result<SessionView> {
    match answer {
        Response::Sessions { mut sessions } if !sessions.is_empty() => Ok(sessions.remove(0)),
        other => anyhow::bail!("the supervisor answered {other:?} to {what}"),
    }
}

/// Asks the supervisor to open, stop or respawn background agent `id`.
pub async fn act(id: &SessionId, action: BgAction) -> anyhow::Result<SessionView> {
    let answer = supervisor_client::request(Request::ClaudeBg {
        session: id.clone(),
        action,
    })
    .await?;
    one(answer, "a background agent's action")
}

/// Starts a background agent (`claude --bg PROMPT` in `cwd`, through the supervisor).
pub async fn start(prompt: &str, cwd: &std::path::Path) -> anyhow::Result<SessionView> {
    let answer = supervisor_client::request(Request::StartBackground {
        prompt: prompt.to_owned(),
        cwd: cwd.display().to_string(),
    })
    .await?;
    one(answer, "a background start")
}

/// For `stop`, `kill` and `restart`: when `query` names a background agent, acts on it
/// through Claude's own command and says so; returns whether it did.
pub async fn act_if_background(query: &str, action: BgAction) -> anyhow::Result<bool> {
    let Some(view) = find(query).await? else {
        return Ok(false);
    };
    let after = act(&view.id, action).await?;
    let verb = match action {
        BgAction::Stop => "stopped",
        BgAction::Respawn => "respawned",
        BgAction::Open => "opened",
    };
    println!(
        "{verb} {} (Claude Code background agent; now {})",
        after.id, after.status.state
    );
    Ok(true)
}
