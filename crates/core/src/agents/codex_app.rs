//! Codex through its app-server (issue 15, item 2): the Codex sessions Paddock starts (with
//! `[agents] codex_app_server = true`) run `codex app-server` on a socket in the runtime
//! directory and Codex's terminal UI attached to it with `--remote`, both inside the
//! session's holder (`launch`). The supervisor is a second client of that app-server
//! (`follow`): it subscribes to the session's thread and turns the protocol's turns, items
//! and approval requests into exact states and permission requests, answered from any device
//! by a JSON-RPC reply (`protocol` reads the messages). Design: docs/design/agents.md,
//! "Codex through its app-server"; what the pinned Codex does: docs/agents-offline.md.

pub mod follow;
pub mod launch;
pub mod protocol;
