//! What a client may do to a Claude Code background agent.

use serde::{Deserialize, Serialize};

/// What to do to a Claude Code background agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BgAction {
    /// Open its terminal: `claude attach <id>` in a holder, linked to the session.
    Open,
    /// `claude stop <id>`: it ends; its conversation is kept.
    Stop,
    /// `claude respawn <id>`: start it again, same id and conversation.
    Respawn,
}
