//! `paddock ls`: every session with its state.

use crate::supervisor_client;
use paddock_host::sessions;
use paddock_proto::agent::AgentState;
use paddock_proto::supervisor::SessionView;
use std::path::Path;
use std::time::SystemTime;

/// List sessions: from the supervisor when it runs (every backend, with cpu and memory),
/// else Paddock's own sessions from the runtime directory.
#[derive(clap::Args)]
pub struct Args {
    /// Print a JSON array of objects with the fields id, name, command, cwd, pid, state
    /// (starting, working, waiting_permission, waiting_input, idle, completed, errored,
    /// exited; without the supervisor running or exited), tool, permission, reason, exit_code, sources, since,
    /// program (what the program last reported to its terminal, OSC 7501: state, kind, app,
    /// message, title, progress, at), started_at, clients,
    /// backend, agent, cpu (percent of one core), rss (bytes), git (its folder's branch,
    /// commit, base, ahead, behind, worktree, files, files_changed, insertions, deletions,
    /// uncommitted; absent outside a git repository).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if let Some(client) = self.remote.client()? {
            let all: Vec<SessionView> = client.get("/sessions").await?;
            return print(&all, self.json);
        }
        let (all, supervised) = match supervisor_client::sessions().await {
            Ok(Some(all)) => (all, true),
            Ok(None) => (from_runtime_dir().await?, false),
            Err(e) => {
                tracing::warn!(error = %e, "the supervisor did not answer; listing Paddock's own sessions only");
                (from_runtime_dir().await?, false)
            }
        };
        print(&all, self.json)?;
        if !supervised && !self.json && !all.is_empty() {
            eprintln!("(the supervisor is not running: states are running or exited only; `paddock up` knows what each agent is doing)");
        }
        Ok(())
    }
}

fn print(all: &[SessionView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if all.is_empty() {
        println!("No sessions. Start one with `paddock run -- CMD`.");
    } else {
        print!("{}", table(all, SystemTime::now()));
    }
    Ok(())
}

/// Without a supervisor: the holders in the runtime directory (no cpu or memory figures).
async fn from_runtime_dir() -> anyhow::Result<Vec<SessionView>> {
    let dir = paddock_host::runtime_dir()?;
    // worktrees (issue 16): each folder's git state, as the supervisor gives it.
    let worktrees = super::run::settings()?.worktrees_dir();
    Ok(sessions::list(&dir)
        .await
        .iter()
        .map(|info| {
            let mut view = SessionView::from_holder(info, paddock_core::holders::agent_of(info));
            view.git = paddock_core::git_status::status(Path::new(&view.cwd), &worktrees);
            view
        })
        .collect())
}

/// The state with its detail: `working: Bash`, `waiting_permission: Bash (p3)`,
/// `exited (1)`, `errored: overloaded`.
fn state_cell(s: &SessionView) -> String {
    let mut cell = state_word(s);
    // What the program itself said (OSC 7501): its progress and message.
    if let Some(p) = &s.status.program {
        if let Some(n) = p.progress {
            cell.push_str(&format!(" {n}%"));
        }
        if let Some(m) = p
            .message
            .as_deref()
            .filter(|m| Some(*m) != s.status.reason.as_deref())
        {
            let short: String = m.chars().take(80).collect();
            let more = if short.len() < m.len() { "…" } else { "" };
            cell.push_str(&format!(" · {short}{more}"));
        }
    }
    cell
}

fn state_word(s: &SessionView) -> String {
    let d = &s.status;
    match d.state {
        AgentState::Working => match &d.tool {
            Some(t) => format!("working: {t}"),
            None => "working".to_owned(),
        },
        AgentState::WaitingPermission => match (&d.permission, &d.tool) {
            (Some(p), _) => format!("waiting_permission: {} ({})", p.tool, p.id),
            (None, Some(t)) => format!("waiting_permission: {t}"),
            (None, None) => "waiting_permission".to_owned(),
        },
        AgentState::Errored => match &d.reason {
            Some(r) => format!("errored: {r}"),
            None => "errored".to_owned(),
        },
        AgentState::Exited | AgentState::Completed => match (d.exit_code, &d.reason) {
            (Some(c), _) => format!("{} ({c})", d.state),
            (None, Some(r)) => format!("{} ({r})", d.state),
            (None, None) => d.state.to_string(),
        },
        other => other.to_string(),
    }
}

fn table(all: &[SessionView], now: SystemTime) -> String {
    let rows: Vec<[String; 13]> = all
        .iter()
        .map(|s| {
            // The agent's own word (MCP `set_status`) follows the observed state.
            let state = match &s.agent_status {
                Some(a) => format!("{} · {}", state_cell(s), a.line()),
                None => state_cell(s),
            };
            [
                s.id.to_string(),
                s.name.clone(),
                s.backend.to_string(),
                s.agent.clone().unwrap_or_else(|| "-".into()),
                state,
                s.pid.to_string(),
                s.cpu
                    .map(|c| format!("{c:.1}%"))
                    .unwrap_or_else(|| "-".into()),
                s.rss.map(human_bytes).unwrap_or_else(|| "-".into()),
                s.clients.to_string(),
                age(&s.started_at, now),
                // worktrees (issue 16): branch, ahead/behind, `*` when dirty; kept narrow.
                s.git
                    .as_ref()
                    .map(|g| narrow(&g.short(), 28))
                    .unwrap_or_else(|| "-".into()),
                s.command.clone(),
                s.cwd.clone(),
            ]
        })
        .collect();
    let header = [
        "ID", "NAME", "BACKEND", "AGENT", "STATE", "PID", "CPU", "MEM", "CLIENTS", "AGE", "GIT",
        "COMMAND", "CWD",
    ];
    crate::table::columns(header, &rows)
}

/// `text` cut to `max` characters, the cut marked with `…`.
fn narrow(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `12.3M`, `1.2G`.
fn human_bytes(b: u64) -> String {
    let mb = b as f64 / (1024.0 * 1024.0);
    if mb >= 1024.0 {
        format!("{:.1}G", mb / 1024.0)
    } else {
        format!("{mb:.1}M")
    }
}

/// `42s`, `5m`, `3h`, `2d` since an RFC 3339 time.
fn age(started: &str, now: SystemTime) -> String {
    let Ok(t) = humantime::parse_rfc3339(started) else {
        return "?".to_owned();
    };
    let secs = now.duration_since(t).map(|d| d.as_secs()).unwrap_or(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ages_read_like_people_say_them() {
        let start = "2026-11-22T02:00:00Z";
        let t0 = humantime::parse_rfc3339(start).expect("valid");
        assert_eq!(age(start, t0 + Duration::from_secs(42)), "42s");
        assert_eq!(age(start, t0 + Duration::from_secs(3 * 3600 + 5)), "3h");
        assert_eq!(age("garbage", t0), "?");
    }
}
