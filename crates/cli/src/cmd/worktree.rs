//! `paddock worktree ls|rm`: the git worktrees Paddock made for sessions
//! (`paddock run --worktree`); the work itself is `paddock_core::worktree`.

use paddock_core::worktree;

/// The git worktrees Paddock made for sessions (`paddock run --worktree`).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// List them: the session, its state (running, exited, gone), the branch and the one it
    /// was made from, uncommitted files and commits its base lacks.
    Ls {
        /// A JSON array of objects: session, session_name, repo, path, branch, base,
        /// created_branch, created_at, session_state, missing, dirty, unmerged.
        #[arg(long)]
        json: bool,
    },
    /// Remove one (its folder, and its branch when Paddock made it). Refused while its
    /// session runs; without --force also when it has uncommitted changes or commits its base
    /// lacks.
    Rm {
        /// The session's id or name, the branch, or the worktree's folder.
        which: String,
        /// Remove it even with uncommitted changes or unmerged commits (never while its
        /// session runs).
        #[arg(long)]
        force: bool,
    },
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let root = super::run::settings()?.worktrees_dir();
        let dir = paddock_host::runtime_dir()?;
        let sessions = paddock_host::sessions::list(&dir).await;
        match self.command {
            Command::Ls { json } => {
                let all = worktree::list(&root, &sessions);
                if json {
                    println!("{}", serde_json::to_string_pretty(&all)?);
                } else if all.is_empty() {
                    println!("No worktrees. `paddock run --worktree -- CMD` starts a session in a new one.");
                } else {
                    print!("{}", table(&all));
                }
            }
            Command::Rm { which, force } => {
                let record = worktree::find(&root, &which)?;
                worktree::remove(&root, &record, &sessions, force)?;
                let branch = if record.created_branch {
                    format!("branch {} deleted", record.branch)
                } else {
                    format!("branch {} kept", record.branch)
                };
                println!("removed {} ({branch})", record.path.display());
            }
        }
        Ok(())
    }
}

fn table(all: &[worktree::WorktreeView]) -> String {
    let header = [
        "SESSION", "NAME", "STATE", "BRANCH", "BASE", "DIRTY", "UNMERGED", "PATH",
    ];
    let rows: Vec<[String; 8]> = all
        .iter()
        .map(|w| {
            let path = if w.missing {
                format!("{} (missing)", w.record.path.display())
            } else {
                w.record.path.display().to_string()
            };
            [
                w.record.session.to_string(),
                w.record.session_name.clone(),
                w.session_state.to_string(),
                w.record.branch.clone(),
                w.record.base.clone(),
                w.dirty.to_string(),
                w.unmerged.to_string(),
                path,
            ]
        })
        .collect();
    crate::table::columns(header, &rows)
}
