//! The `read_output` tool (its own `#[tool_router]`, added to the tools of `tools.rs`): a
//! session's recent raw output from its holder's ring, by byte offset, as text with escape
//! sequences removed or raw. It says when the offset asked for has fallen out of the ring and
//! where the ring now starts, and caps what one call returns.

use super::tools::PaddockMcp;
use crate::supervisor::Handle;
use paddock_host::text::Plain;
use paddock_proto::access::Permission;
use paddock_proto::{Hello, Mode, Request, Response, SessionId, Start};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Most bytes one call returns.
pub const MAX_BYTES: u64 = 64 * 1024;
/// Bytes returned when the caller does not say.
const DEFAULT_BYTES: u64 = 16 * 1024;
/// How long the holder may take to send what is already in its ring.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize, JsonSchema)]
pub struct OutputArgs {
    /// Session id, unique id prefix or name; an agent may leave it out for its own.
    #[serde(default)]
    pub session: Option<String>,
    /// The byte offset to read from (a previous call's `next_offset`); without it, the
    /// newest `max_bytes` of the output.
    #[serde(default)]
    pub offset: Option<u64>,
    /// At most this many bytes (1..=65536, default 16384).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// The bytes as the program wrote them, escape sequences included (default: text with
    /// them removed).
    #[serde(default)]
    pub raw: bool,
}

/// A stretch of a session's output.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OutputChunk {
    pub session: String,
    /// Where these bytes begin.
    pub offset: u64,
    /// Where the next call continues (equal to `end` when everything was read).
    pub next_offset: u64,
    /// The session's output so far, in bytes (the next byte's offset).
    pub end: u64,
    /// The oldest offset still in the ring.
    pub ring_start: u64,
    /// True when the offset asked for had already fallen out of the ring, so this starts at
    /// `ring_start` instead.
    pub fell_out: bool,
    pub raw: bool,
    /// The output: text without escape sequences (lines joined with `\n`), or the raw bytes
    /// (invalid UTF-8 replaced).
    pub text: String,
    pub detail: String,
}

/// What the ring holds, as the holder says now.
struct Ring {
    start: u64,
    end: u64,
}

async fn ring(handle: &Handle, id: &SessionId) -> Result<Ring, String> {
    match handle
        .session_request(id, Request::Info)
        .await
        .map_err(|e| e.to_string())?
    {
        Response::Info { session } => Ok(Ring {
            start: session.ring_start,
            end: session.output_end,
        }),
        other => Err(format!(
            "the session's holder answered {other:?} instead of its details; try again"
        )),
    }
}

/// The bytes `[from, to)` of the session's output, from its holder.
async fn read_bytes(
    handle: &Handle,
    id: &SessionId,
    from: u64,
    to: u64,
) -> Result<Vec<u8>, String> {
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.start = Start::Offset { offset: from };
    hello.client_name = Some("mcp read_output".into());
    let mut client = handle
        .open_terminal(id, hello)
        .await
        .map_err(|e| e.to_string())?;
    if client.welcome.stream.gap || client.welcome.stream.offset != from {
        return Err(format!(
            "offset {from} left the ring while it was being read; call read_output again"
        ));
    }
    let mut out = Vec::with_capacity((to - from) as usize);
    let read = async {
        while from + (out.len() as u64) < to {
            match client.next_event().await {
                Ok(Some(paddock_host::client::Event::Output { offset, data })) => {
                    let at = from + out.len() as u64;
                    if offset > at {
                        return Err(format!("the holder skipped from offset {at} to {offset}; call read_output again"));
                    }
                    let skip = (at - offset) as usize;
                    let want = (to - at) as usize;
                    let data = data.get(skip..).unwrap_or_default();
                    out.extend_from_slice(&data[..want.min(data.len())]);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .map_err(|_| {
            "the session's holder did not send its output within 5 s; try again".to_owned()
        })??;
    Ok(out)
}

/// How many bytes at the end of `bytes` begin an unfinished UTF-8 character (left for the
/// next call, so a character is never cut in two).
fn unfinished_tail(bytes: &[u8]) -> usize {
    for back in 1..=3.min(bytes.len()) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let len = match b {
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            b if b >= 0xC0 => 2,
            _ => 1,
        };
        return if len > back { back } else { 0 };
    }
    0
}

/// `bytes` as text without escape sequences.
fn plain_text(bytes: &[u8]) -> String {
    let mut plain = Plain::new();
    let mut lines = Vec::new();
    plain.feed(bytes, &mut lines);
    lines.extend(plain.finish());
    lines.join("\n")
}

#[tool_router(router = output_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Recent output of a session's terminal by byte offset, from Paddock's ring: text with escape sequences removed (or raw). Continue with next_offset; says when the offset fell out of the ring.",
        annotations(read_only_hint = true)
    )]
    async fn read_output(&self, args: Parameters<OutputArgs>) -> Result<Json<OutputChunk>, String> {
        self.caller().need(Permission::Read)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let max = match args.max_bytes {
            None => DEFAULT_BYTES,
            Some(n) if (1..=MAX_BYTES).contains(&n) => n,
            Some(n) => return Err(format!("max_bytes must be 1..={MAX_BYTES}, not {n}")),
        };
        let handle = &self.handle;
        let ring = ring(handle, &view.id).await?;
        let asked = args
            .offset
            .unwrap_or(ring.end.saturating_sub(max).max(ring.start));
        if asked > ring.end {
            return Err(format!(
                "offset {asked} is past the end of the output ({}); read from an offset up to {}",
                ring.end, ring.end
            ));
        }
        let fell_out = asked < ring.start;
        let from = asked.max(ring.start);
        let to = ring.end.min(from + max);
        let mut bytes = if to > from {
            read_bytes(handle, &view.id, from, to).await?
        } else {
            Vec::new()
        };
        if to < ring.end {
            let cut = unfinished_tail(&bytes);
            bytes.truncate(bytes.len() - cut);
        }
        let next_offset = from + bytes.len() as u64;
        let text = if args.raw {
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            plain_text(&bytes)
        };
        let mut detail = if fell_out {
            format!(
                "bytes {asked}..{} have left the ring (it keeps the newest {} bytes); this starts at {from}, the oldest still there. ",
                ring.start,
                ring.end - ring.start
            )
        } else {
            String::new()
        };
        if next_offset < ring.end {
            detail.push_str(&format!(
                "{} more bytes to {}: call read_output with offset {next_offset}",
                ring.end - next_offset,
                ring.end
            ));
        } else {
            detail.push_str("this is everything so far; new output starts at next_offset");
        }
        Ok(Json(OutputChunk {
            session: view.id.to_string(),
            offset: from,
            next_offset,
            end: ring.end,
            ring_start: ring.start,
            fell_out,
            raw: args.raw,
            text,
            detail,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_cut_at_the_end_is_left_for_the_next_call() {
        let s = "añ€😀".as_bytes();
        assert_eq!(unfinished_tail(s), 0);
        assert_eq!(unfinished_tail(&s[..s.len() - 1]), 3);
        assert_eq!(unfinished_tail(&s[..s.len() - 3]), 1);
        assert_eq!(unfinished_tail(&s[..2]), 1);
        assert_eq!(unfinished_tail(b"plain"), 0);
    }

    #[test]
    fn text_has_no_escape_sequences() {
        assert_eq!(
            plain_text(b"\x1b[1;31mred\x1b[0m\r\nnext\x1b]0;title\x07 line"),
            "red\nnext line"
        );
    }
}
