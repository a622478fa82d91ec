//! Claude Code's background agents (`claude --bg`, run by Claude's own daemon) as sessions of
//! their own backend, `claude-bg`, named `cbg-<id>`: `files` reads their files tolerantly,
//! `follow` lists them in the registry, `commands` runs Claude's own commands, `ops` is what
//! the CLI, REST and MCP ask for (open the terminal, stop, respawn, start).

pub mod commands;
pub mod files;
pub mod follow;
pub mod ops;

/// The prefix of a background agent's session id: `cbg-<id>`.
pub const PREFIX: &str = "cbg-";

/// Whether a process belongs to Claude's daemon (`claude daemon run`, `claude bg-pty-host`,
/// `claude bg-spare`): the background agents are listed from their files, so the process
/// table's discovery leaves these out (a spare REPL is no agent).
pub fn is_daemon_process(cmd: &[String]) -> bool {
    cmd.iter().skip(1).take(2).any(|a| {
        matches!(
            a.as_str(),
            "bg-pty-host" | "bg-spare" | "--bg-pty-host" | "--bg-spare" | "daemon"
        )
    })
}
