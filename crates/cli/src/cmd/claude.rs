//! `paddock claude`: Claude Code in a new session, with Paddock's hooks.

/// Start Claude Code in a new session with Paddock's hooks (same as `paddock run -- claude
/// ARGS`) and attach to it. Its state, permission requests and transcript reach Paddock
/// exactly; detach with Ctrl-\ and it keeps running.
#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// A name for the session (default: claude, made unique).
    #[arg(long)]
    pub name: Option<String>,
    /// Print the session id and return instead of attaching.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// The Claude Code executable (default: `claude` on the PATH).
    #[arg(long, env = "PADDOCK_CLAUDE", default_value = "claude")]
    pub claude: String,
    /// Arguments for Claude Code.
    #[arg(allow_hyphen_values = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let run = super::run::Args {
            name: self.name,
            cwd: None,
            env: Vec::new(),
            cols: None,
            rows: None,
            ring: 4 << 20,
            grace: std::time::Duration::from_secs(600).into(),
            attach: !self.detach,
            no_hooks: false,
            orchestrator: false,
            no_mcp: false,
            keep_nested_env: false,
            bg: None,
            worktree: None,
            command: std::iter::once(self.claude).chain(self.args).collect(),
        };
        run.run().await
    }
}
