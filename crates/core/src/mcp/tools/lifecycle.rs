//! The tools that start and control sessions, for an orchestrator only: `spawn_session`,
//! `stop_session`, `interrupt`, `pause` and `resume`.

use super::{summary, Done, PaddockMcp, ToolResult};
use paddock_proto::access::Permission;
use paddock_proto::agent::Control;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use std::time::Duration;

/// Arguments of `stop_session`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct StopArgs {
    /// The session (id, unique id prefix or name).
    pub session: String,
    /// Seconds to wait after TERM before KILL, 0..=30 (default 10).
    #[serde(default)]
    pub grace_secs: Option<u64>,
}

/// Arguments of `interrupt`, `pause`, `resume`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ControlArgs {
    /// The session (id, unique id prefix or name).
    pub session: String,
}

/// Arguments of `spawn_session`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SpawnArgs {
    /// The program (looked up in PATH), e.g. `claude`; leave empty with `background`.
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// An absolute path to an existing folder to run it in.
    pub cwd: String,
    /// A name to refer to it by (unique); default: the program's name made unique.
    #[serde(default)]
    pub name: Option<String>,
    /// A prompt: start a Claude Code background agent (`claude --bg PROMPT`, run by Claude's
    /// own daemon, listed as `cbg-<id>`) in `cwd` instead of a program.
    #[serde(default)]
    pub background: Option<String>,
    // worktrees (issue 16): begin
    /// Start it in a new git worktree of `cwd`'s repository, on a new branch named after the
    /// session (`paddock/<name>`) unless `branch` is given.
    #[serde(default)]
    pub worktree: bool,
    /// The branch for the worktree (implies `worktree`); an existing one is checked out.
    #[serde(default)]
    pub branch: Option<String>,
    // worktrees (issue 16): end
}

impl PaddockMcp {
    async fn control(&self, args: ControlArgs, control: Control) -> ToolResult<Done> {
        self.caller.need(Permission::Control)?;
        let name = control.name();
        self.require_orchestrator(&format!("{name} on a session"))?;
        let view = self.target(Some(&args.session))?;
        let result =
            crate::control::control(&self.handle, view.id.as_str(), control, &self.caller.actor)
                .await
                .map(|v| Done {
                    detail: format!("{name}: done on {}", v.name),
                    session: self.fresh(&v),
                })
                .map_err(|e| e.to_string());
        result.map(Json)
    }
}

#[tool_router(router = lifecycle_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Start a new session (orchestrator only): a program in a folder, with Paddock's hooks for Claude Code and Codex; `worktree` (or `branch`) starts it in a new git worktree of the folder's repository; or, with `background`, a Claude Code background agent (`claude --bg`)."
    )]
    async fn spawn_session(&self, args: Parameters<SpawnArgs>) -> ToolResult<Done> {
        self.caller.need(Permission::Control)?;
        self.require_orchestrator("spawning a session")?;
        let args = args.0;
        if let Some(prompt) = &args.background {
            let result = self
                .handle
                .start_background(prompt, std::path::Path::new(&args.cwd))
                .await
                .map(|v| Done {
                    detail: format!("started background agent {} ({})", v.name, v.id),
                    session: summary(&v, &self.caller),
                })
                .map_err(|e| e.to_string());
            return result.map(Json);
        }
        let mut req = crate::start::StartRequest::new(
            args.command.clone(),
            args.args,
            std::path::PathBuf::from(&args.cwd),
        );
        req.name = args.name;
        if args.worktree || args.branch.is_some() {
            // The supervisor sets the directory from its configuration.
            req.worktree = Some(crate::worktree::WorktreeRequest {
                branch: args.branch,
                root: Default::default(),
            });
        }
        let result = self
            .handle
            .start_session(req)
            .await
            .map(|v| Done {
                detail: format!("started {} ({})", v.name, v.id),
                session: summary(&v, &self.caller),
            })
            .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Stop a session (orchestrator only) as `paddock stop` does: TERM, then KILL after grace_secs (default 10). Returns once it ended.",
        annotations(destructive_hint = true)
    )]
    async fn stop_session(&self, args: Parameters<StopArgs>) -> ToolResult<Done> {
        self.caller.need(Permission::Control)?;
        self.require_orchestrator("stopping a session")?;
        let args = args.0;
        let view = self.target(Some(&args.session))?;
        if self.caller.session.as_ref() == Some(&view.id) {
            return Err("refused: an orchestrator does not stop its own session".into());
        }
        if !view.is_running() {
            return Err(format!("{} has already ended", view.name));
        }
        let grace = Duration::from_secs(args.grace_secs.unwrap_or(10).min(30));
        let result = crate::control::stop(&self.handle, &view, grace)
            .await
            .map(|how| Done {
                detail: match how {
                    crate::control::Stopped::Term => format!("{} exited after TERM", view.name),
                    crate::control::Stopped::Kill => format!(
                        "{} ignored TERM for {} s and was killed",
                        view.name,
                        grace.as_secs()
                    ),
                },
                session: self.fresh(&view),
            })
            .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Interrupt a session's agent (orchestrator only): Esc for Claude Code and Codex, Ctrl-C otherwise."
    )]
    async fn interrupt(&self, args: Parameters<ControlArgs>) -> ToolResult<Done> {
        self.control(args.0, Control::Interrupt { message: None })
            .await
    }

    #[tool(
        description = "Pause a session's agent (orchestrator only): SIGSTOP to its process group."
    )]
    async fn pause(&self, args: Parameters<ControlArgs>) -> ToolResult<Done> {
        self.control(args.0, Control::Pause).await
    }

    #[tool(description = "Resume a paused session (orchestrator only).")]
    async fn resume(&self, args: Parameters<ControlArgs>) -> ToolResult<Done> {
        self.control(args.0, Control::Resume).await
    }
}
