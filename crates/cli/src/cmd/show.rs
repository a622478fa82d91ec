//! `paddock show`: what one agent is doing and has done, from its state and transcript.

use crate::remote_client;
use crate::supervisor_client::request;
use anyhow::bail;
use paddock_proto::insight::SessionInsight;
use paddock_proto::{Request, Response};

/// Show a session: its state, current task, recent actions, files changed, progress, what it
/// is thinking, tokens and cost.
#[derive(clap::Args)]
pub struct Args {
    /// The session's id or name.
    pub session: String,
    /// One JSON object: `session` (as in `ls --json`) and `insight`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let (session, insight) = match self.remote.client()? {
            Some(client) => {
                let session = remote_client::resolve(&client, &self.session).await?;
                let path = format!(
                    "{}/insight",
                    remote_client::session_path(session.id.as_str())
                );
                let insight: Option<SessionInsight> = match client.get(&path).await {
                    Ok(i) => Some(i),
                    // The host follows no transcript for it (yet).
                    Err(e) if e.code() == "not_found" => None,
                    Err(e) => return Err(e.into()),
                };
                (session, insight)
            }
            None => match request(Request::Insight {
                session: self.session,
            })
            .await?
            {
                Response::Insight { session, insight } => (*session, insight.map(|i| *i)),
                other => bail!("the supervisor answered {other:?} to show"),
            },
        };
        if self.json {
            let out = serde_json::json!({ "session": session, "insight": insight });
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        println!("{} ({}) {}", session.name, session.id, session.status.state);
        if let Some(p) = &session.status.permission {
            println!("  waiting for permission {}: {} {}", p.id, p.tool, p.input);
        }
        // worktrees (issue 16): begin
        if let Some(g) = &session.git {
            print_git(g);
        }
        // worktrees (issue 16): end
        if let Some(a) = &session.agent_status {
            println!("status: {} (set by the agent at {})", a.line(), a.at);
        }
        if let Some(r) = &session.status.program {
            let kind = r
                .kind
                .map(|k| format!(" ({})", k.as_str()))
                .unwrap_or_default();
            let app = r.app.as_deref().unwrap_or("the program");
            print!("  {app} reports {}{kind}", r.state.as_str());
            if let Some(n) = r.progress {
                print!(", {n}%");
            }
            match &r.message {
                Some(m) => println!(": {m}"),
                None => println!(),
            }
        }
        let Some(i) = insight else {
            println!("  (no transcript found yet)");
            return Ok(());
        };
        if let Some(t) = &i.current_task {
            println!("task: {t}");
        }
        if let Some(m) = &i.model {
            println!("model: {m}");
        }
        if let Some(p) = &i.progress {
            println!("progress: {}/{}", p.done, p.total);
        }
        for a in i.recent_actions.iter().rev().take(10).rev() {
            println!("  {:?} {} {}", a.status, a.tool, a.input_summary);
        }
        for f in &i.files_modified {
            println!("  file {:?} {}", f.operation, f.path);
        }
        println!(
            "tokens: {} in, {} out; cost {:?}",
            i.tokens.input, i.tokens.output, i.cost
        );
        Ok(())
    }
}

// worktrees (issue 16): begin
/// `git: paddock/fix ↑2 against main · 3 files +42 -7, 1 uncommitted`, then the files.
fn print_git(g: &paddock_proto::git::GitStatus) {
    let mut line = format!("git: {}", g.short());
    if let Some(base) = &g.base {
        line.push_str(&format!(" against {base}"));
    }
    line.push_str(&format!(" · {}", g.stat()));
    if g.uncommitted > 0 {
        line.push_str(&format!(", {} uncommitted", g.uncommitted));
    }
    println!("{line}");
    if let Some(w) = &g.worktree {
        println!("  in the worktree {w}");
    }
    for f in &g.files {
        let counts = match (f.insertions, f.deletions) {
            (Some(i), Some(d)) => format!("+{i} -{d}"),
            _ => "binary".to_owned(),
        };
        let mark = if f.uncommitted { " (uncommitted)" } else { "" };
        println!("  {} {counts}{mark}", f.path);
    }
    if g.files_changed as usize > g.files.len() {
        println!("  … and {} more", g.files_changed as usize - g.files.len());
    }
}
// worktrees (issue 16): end
