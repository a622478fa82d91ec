//! `paddock mcp`: Paddock's MCP server on stdio, for an agent's MCP configuration. A relay
//! and nothing more: it connects to the supervisor's MCP socket, says which session it runs
//! in (`PADDOCK_SESSION_ID`; the supervisor checks it against this process's ancestry), and
//! copies bytes both ways. It holds no state, so it starts in milliseconds.
//! `paddock mcp install|uninstall claude|codex` adds it to (removes it from) the owner's own
//! agent configuration (`paddock_core::mcp::install`).

use anyhow::Context;
use paddock_core::mcp::{install, RelayHello, RELAY_VERSION, SOCKET_NAME};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

/// Serve Paddock's MCP tools on stdin/stdout (for `claude --mcp-config`, `.mcp.json`,
/// Codex's `mcp_servers`): a relay to the running supervisor (`paddock up`). A session
/// Paddock started acts on itself only, unless the owner started it with `paddock run
/// --orchestrator`. The tools are listed in docs/mcp.md.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
}

/// Paddock's server in the owner's own agent configuration.
#[derive(clap::Subcommand)]
pub enum Action {
    /// Add Paddock's MCP server to your own Claude Code (~/.claude.json, user scope) or Codex
    /// (~/.codex/config.toml) configuration, for agents started outside Paddock. Idempotent.
    Install { agent: Agent },
    /// Remove exactly what `install` added (the `paddock` server), nothing else.
    Uninstall { agent: Agent },
}

/// The agent whose configuration to change.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Agent {
    Claude,
    Codex,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        match self.action {
            None => relay(),
            Some(action) => configure(action),
        }
    }
}

/// `install` / `uninstall`: says what changed and where.
fn configure(action: Action) -> anyhow::Result<()> {
    let (agent, installing) = match action {
        Action::Install { agent } => (agent, true),
        Action::Uninstall { agent } => (agent, false),
    };
    let target = match agent {
        Agent::Claude => install::Target::Claude,
        Agent::Codex => install::Target::Codex,
    };
    let path = install::config_path(target, |k| std::env::var(k).ok())?;
    let report = if installing {
        let exe = std::env::current_exe().context("cannot find the paddock executable")?;
        let runtime = paddock_host::dirs::runtime_dir_path();
        install::install(target, &path, &exe, &runtime)?
    } else {
        install::uninstall(target, &path)?
    };
    println!("{report}");
    Ok(())
}

/// The stdio relay to the supervisor's MCP socket.
fn relay() -> anyhow::Result<()> {
    let dir = paddock_host::runtime_dir()?;
    let path = dir.path().join(SOCKET_NAME);
    let mut socket = UnixStream::connect(&path).with_context(|| {
        format!(
            "cannot reach the supervisor's MCP socket {}: start the supervisor with `paddock up`",
            path.display()
        )
    })?;
    let hello = RelayHello {
        version: RELAY_VERSION,
        session: std::env::var("PADDOCK_SESSION_ID")
            .ok()
            .filter(|s| !s.is_empty()),
    };
    let mut line = serde_json::to_vec(&hello)?;
    line.push(b'\n');
    socket
        .write_all(&line)
        .context("cannot write to the supervisor's MCP socket")?;
    let mut upstream = socket.try_clone().context("cannot share the MCP socket")?;
    // stdin -> supervisor on a thread of its own (a blocking read that the process's exit
    // ends); supervisor -> stdout here, until the supervisor closes the connection.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut upstream);
        let _ = upstream.shutdown(std::net::Shutdown::Write);
    });
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match socket.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("the supervisor's MCP connection failed"),
        };
        stdout.write_all(&buf[..n])?;
        stdout.flush()?;
    }
}
