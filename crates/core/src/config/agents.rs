//! The `[agents]` section: which processes count as agents, and how Paddock follows them.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which processes count as agents, and how Paddock follows them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// Extra agents: a name and a glob matched against the program's name, its executable's
    /// name, or the whole command line (see `paddock_monitor::AgentPattern`).
    pub extra: Vec<paddock_monitor::AgentPattern>,
    /// How long a permission request waits for a remote answer before it is left to the
    /// terminal (Claude Code gives a hook at most 10 minutes).
    #[serde(with = "humantime_serde")]
    pub permission_timeout: Duration,
    /// How plain programs' screens are read: confirm and input prompt patterns (regular
    /// expressions matched against the last non-empty row) and how recent output means busy.
    pub generic: paddock_agents::generic::GenericConfig,
    /// Give the Claude Code and Codex sessions Paddock starts Paddock's MCP server (`paddock
    /// mcp`, merged with the owner's own servers); `false` leaves their MCP configuration
    /// as the owner has it.
    pub mcp_server: bool,
    /// Keep the inherited variables that break a nested agent in the sessions the supervisor
    /// starts (see `crate::nested`); off by default.
    pub keep_nested_env: bool,
    /// Give the sessions the supervisor starts the owner's login-shell environment (see
    /// `crate::login_env`); their own variables still win.
    pub login_env: bool,
    /// Run the Codex sessions Paddock starts through Codex's app-server (`codex app-server`
    /// on a socket in the runtime directory, the terminal UI attached with `--remote`), so
    /// that their state and approval requests come from its protocol (issue 15, item 2;
    /// docs/design/agents.md, "Codex through its app-server"). Off by default: upstream
    /// marks the app-server experimental.
    pub codex_app_server: bool,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            extra: Vec::new(),
            permission_timeout: Duration::from_secs(590),
            generic: Default::default(),
            mcp_server: true,
            keep_nested_env: false,
            login_env: true,
            codex_app_server: false,
        }
    }
}
