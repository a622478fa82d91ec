//! `paddock run`: start a command in a new session held by its own holder process.

use anyhow::Context;
use paddock_core::start::{self, StartRequest};
use paddock_host::sessions;
use paddock_proto::{SessionId, Size};
use std::path::PathBuf;

/// Start CMD in a new session and print its id. The session keeps running after this
/// command, the terminal it ran in, and any supervisor have gone.
#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// A name to refer to the session by (default: the command's name, made unique).
    #[arg(long)]
    pub name: Option<String>,
    /// Working directory (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set an environment variable for the command (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Terminal width (default: this terminal's, or 80).
    #[arg(long, requires = "rows")]
    pub cols: Option<u16>,
    /// Terminal height (default: this terminal's, or 24).
    #[arg(long, requires = "cols")]
    pub rows: Option<u16>,
    /// Output kept for late or reconnecting clients, in bytes (K, M and G suffixes allowed).
    #[arg(long, value_name = "BYTES", default_value = "4M", value_parser = parse_bytes)]
    pub ring: usize,
    /// How long an exited session stays readable (e.g. 10m, 1h, 30s).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub grace: humantime::Duration,
    /// Attach to the session at once.
    #[arg(long)]
    pub attach: bool,
    /// Do not add Paddock's hooks to Claude Code (`--settings`) or Codex (`notify`); their
    /// state then comes from their files and screen only.
    #[arg(long)]
    pub no_hooks: bool,
    /// Grant the session the MCP orchestrator role: through `paddock mcp` its agent may
    /// list, read, message, spawn, stop and wait on other sessions and answer their
    /// permission requests (never its own). Without it, an agent acts on its own session only.
    #[arg(long)]
    pub orchestrator: bool,
    /// Do not add Paddock's MCP server (`paddock mcp`) to Claude Code's or Codex's MCP
    /// configuration (the `agents.mcp_server` setting turns it off for every session).
    #[arg(long)]
    pub no_mcp: bool,
    /// Keep the variables a parent Claude Code session left in this shell (CLAUDECODE,
    /// CLAUDE_CODE_ENTRYPOINT, CLAUDE_CODE_REMOTE*, CLAUDE_CODE_*_FILE_DESCRIPTOR...). By
    /// default they are removed: a new agent that inherits them fails (`paddock doctor`
    /// names them). A variable given with --env is always kept.
    #[arg(long)]
    pub keep_nested_env: bool,
    /// Start a Claude Code background agent instead (`claude --bg PROMPT`, run by Claude's
    /// own daemon; needs `paddock up`): listed as session `cbg-<id>`, opened with `paddock
    /// attach`, stopped with `paddock kill`, respawned with `paddock restart`.
    #[arg(long, value_name = "PROMPT", conflicts_with_all = ["command", "attach", "name"])]
    pub bg: Option<String>,
    // worktrees (issue 16): begin
    /// Start in a new git worktree of the folder's repository (made under the `worktrees.dir`
    /// setting), on BRANCH, or on a new branch `paddock/<session name>` when none is given.
    /// An existing BRANCH is checked out there. Put the command after `--`.
    #[arg(long, value_name = "BRANCH", num_args = 0..=1, default_missing_value = "")]
    pub worktree: Option<String>,
    // worktrees (issue 16): end
    /// The command and its arguments (put them after `--`).
    #[arg(required_unless_present = "bg", value_name = "CMD")]
    pub command: Vec<String>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not K=V")),
    }
}

fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = t[i..].to_ascii_lowercase();
            let mult: usize = match unit.as_str() {
                "b" => 1,
                "k" | "kb" | "kib" => 1 << 10,
                "m" | "mb" | "mib" => 1 << 20,
                "g" | "gb" | "gib" => 1 << 30,
                _ => return Err(format!("unknown unit in `{s}`: use K, M or G")),
            };
            (&t[..i], mult)
        }
        None => (t, 1),
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 4M or 65536"))?;
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))?;
    if !(1024..=(1usize << 32)).contains(&bytes) {
        return Err(format!("`{s}` is outside 1K..=4G"));
    }
    Ok(bytes)
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if let Some(prompt) = &self.bg {
            let cwd = match &self.cwd {
                Some(c) => std::path::absolute(c)
                    .with_context(|| format!("cannot resolve the directory {}", c.display()))?,
                None => std::env::current_dir().context("cannot read the current directory")?,
            };
            let view = crate::claude_bg::start(prompt, &cwd).await?;
            println!("{}", view.id);
            return Ok(());
        }
        let attach = self.attach;
        let id = start(self).await?;
        if attach {
            let args = super::attach::Args {
                session: id.to_string(),
                read_only: false,
                detach_key: super::attach::DEFAULT_DETACH_KEY.to_owned(),
                remote: Default::default(),
            };
            return args.run().await;
        }
        println!("{id}");
        Ok(())
    }
}

/// Starts the holder and returns the new session's id once the agent runs.
pub async fn start(args: Args) -> anyhow::Result<SessionId> {
    let dir = paddock_host::runtime_dir()?;
    let existing = sessions::list(&dir).await;
    let cwd = match args.cwd {
        Some(c) => std::path::absolute(&c)
            .with_context(|| format!("cannot resolve the directory {}", c.display()))?,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let mut command = args.command.into_iter();
    let program = command
        .next()
        .context("no command given: `paddock run -- CMD [ARGS]`")?;
    let size = match (args.cols, args.rows) {
        (Some(cols), Some(rows)) => Size { cols, rows },
        _ => crate::term::size().unwrap_or(Size { cols: 80, rows: 24 }),
    };
    let settings = settings()?;
    let worktree = args
        .worktree
        .map(|b| paddock_core::worktree::WorktreeRequest {
            branch: Some(b).filter(|b| !b.trim().is_empty()),
            root: settings.worktrees_dir(),
        });
    let request = StartRequest {
        name: args.name,
        env: args.env,
        size,
        ring_bytes: args.ring,
        grace: args.grace.into(),
        hooks: !args.no_hooks,
        orchestrator: args.orchestrator,
        mcp: !args.no_mcp && settings.agents.mcp_server,
        keep_nested_env: args.keep_nested_env,
        worktree,
        codex_app_server: settings.agents.codex_app_server,
        ..StartRequest::new(program, command.collect(), cwd)
    };
    let exe = std::env::current_exe().context("cannot find the paddock executable")?;
    let id = start::prepare_and_spawn(request, &dir, &existing, &exe)?;
    crate::supervisor_client::adopt(&id).await;
    Ok(id)
}

/// The settings `run` uses (config.toml): `agents.mcp_server`, `agents.codex_app_server` and
/// the worktrees directory.
/// Only the `PADDOCK_AGENTS__*` and `PADDOCK_WORKTREES__*` variables are read: the agent's own
/// environment may hold other `PADDOCK_` variables that are not settings.
pub fn settings() -> anyhow::Result<paddock_core::Config> {
    use paddock_core::config::Config;
    let path = Config::default_path();
    let file = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => anyhow::bail!("cannot read the configuration {}: {e}", path.display()),
    };
    let env = std::env::vars()
        .filter(|(k, _)| k.starts_with("PADDOCK_AGENTS__") || k.starts_with("PADDOCK_WORKTREES__"));
    Ok(Config::layered(&path, file.as_deref(), env)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_parse_with_units() {
        assert_eq!(parse_bytes("4M"), Ok(4 << 20));
        assert_eq!(parse_bytes("64k"), Ok(64 << 10));
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert!(parse_bytes("4X").is_err());
        assert!(parse_bytes("12").is_err(), "below the minimum");
    }

    #[test]
    fn env_needs_a_key() {
        assert_eq!(parse_env("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert!(parse_env("=x").is_err());
        assert!(parse_env("novalue").is_err());
    }
}
