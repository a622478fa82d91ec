//! What a holder tells its clients unasked.

use super::Size;
use serde::{Deserialize, Serialize};

/// Things a holder tells its clients unasked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Notification {
    /// The client fell too far behind; the bytes from `from` to `to` were skipped and a
    /// snapshot at `to` follows.
    Lagged { from: u64, to: u64 },
    /// The terminal was resized (by another client, or by this one).
    Resized { size: Size },
    /// The agent exited. The screen and the ring stay readable until the holder's grace
    /// period ends.
    Exited {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
    },
    /// The agent was started again with a new pid.
    Restarted { pid: u32 },
    /// The terminal printed; `end` is the output offset now (for clients that asked for
    /// `activity`; sent at most every 200 ms while output flows, and once when it stops).
    Output { end: u64 },
    /// Someone typed into the terminal through a client that streams it (a person at
    /// `paddock attach` or the UI's terminal, not `send` or the supervisor); `count` is the
    /// number of input writes so far. Sent to `activity` clients at once, then at most every
    /// few seconds while typing goes on: the supervisor learns where its owner is without a
    /// message per keystroke.
    Typed { count: u64 },
    /// The holder is going away (grace period over, or the session was removed).
    Closing { reason: String },
    /// The agent no longer waits for this client, which had asked for `backpressure`:
    /// `reason` says why (it read nothing for its stall limit while the agent waited; the
    /// terminal cannot be held back). It stays attached as a `lossless` client: if it falls
    /// out of the ring it is told `lagged` and resynced.
    Demoted { reason: String },
    /// The program reported its status to its terminal (OSC 7501): `status` is the record
    /// about the whole program now, `None` once it cleared it (protocol 3; sent at once to
    /// `activity` clients of version 3 or later).
    ProgramStatus {
        #[serde(default)]
        status: Option<crate::program_status::ProgramStatus>,
    },
    /// A notification this build does not know.
    #[serde(other)]
    Unknown,
}
