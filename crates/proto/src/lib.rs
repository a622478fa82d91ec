//! Paddock's wire protocol: the IDs, the messages and the framing that every local socket uses.
//!
//! Called by the holder (`paddock-host`), the CLI and, later, the supervisor. Everything that
//! crosses a process boundary is defined here once.
//!
//! A frame is a u32 little-endian length followed by that many bytes of payload; the first
//! payload byte says what the frame carries (see [`frame`]). Control frames carry one JSON
//! [`Message`]; terminal output travels in binary frames that carry its absolute byte offset.
#![forbid(unsafe_code)]

pub mod access;
pub mod agent;
pub mod conversation;
pub mod doctor;
pub mod frame;
// worktrees (issue 16): begin
pub mod git;
// worktrees (issue 16): end
pub mod ids;
pub mod insight;
pub mod message;
pub mod notify;
pub mod program_status;
pub mod rest;
pub mod shell;
pub mod supervisor;
pub mod web;

#[cfg(feature = "tokio")]
pub use frame::{write_frame, FrameReader};
pub use frame::{Frame, FrameDecoder, FrameError, MAX_FRAME_LEN};
pub use ids::{ClientId, SessionId};
pub use message::*;

/// The protocol version this build speaks. A peer says its own in `hello`; the holder accepts
/// any version in `MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION` and answers with the one it uses.
///
/// 2: `hello.backpressure` and the `demoted` notification (a version-1 peer ignores the
/// field and never sees the notification).
/// 3: the `program_status` notification (the program's OSC 7501 reports), sent only to
/// clients of version 3 or later; `SessionInfo.program_status` (older peers skip the field).
pub const PROTOCOL_VERSION: u32 = 3;
/// The oldest protocol version this build still accepts.
pub const MIN_PROTOCOL_VERSION: u32 = 1;
