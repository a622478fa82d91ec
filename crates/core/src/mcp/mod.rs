//! Paddock as an MCP server: the tools agents and orchestrators call (`tools.rs`), who is
//! calling (`caller.rs`), and the supervisor's MCP socket (`local.rs`, `_mcp.sock`) that
//! `paddock mcp` relays an agent's stdio to. One server implementation (rmcp); each tool is a
//! thin adapter over the operation the rest of the supervisor already has (control,
//! delivery, permissions, transcripts, the notifier).
//!
//! Profiles: an **agent** acts on its own session only; an **orchestrator** (granted by the
//! owner: `paddock run --orchestrator`) reads, messages, spawns, stops and waits on other
//! sessions and answers their permission requests, never one of its own session.

pub mod asks;
pub mod caller;
pub mod http;
pub mod install;
pub mod local;
pub mod output;
pub mod progress;
pub mod resources;
pub mod tools;
pub mod wiring;

pub use caller::{Caller, Profile};
pub use tools::PaddockMcp;

/// The supervisor's MCP socket in the runtime directory (0600).
pub const SOCKET_NAME: &str = "_mcp.sock";

/// The first line `paddock mcp` writes on the MCP socket, before the MCP messages.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RelayHello {
    /// The relay's protocol version (1).
    pub version: u32,
    /// `PADDOCK_SESSION_ID` of the relay's environment, if set: checked against the peer's
    /// process tree, never trusted alone.
    #[serde(default)]
    pub session: Option<String>,
}

/// The relay protocol's version.
pub const RELAY_VERSION: u32 = 1;
