//! The holder's side of the Program Status Protocol (OSC 7501, revision 0.4): finds the
//! program's queries and status reports in its output however the output is split across
//! reads, takes them out of the stream (the holder is the terminal they are meant for; passed
//! on, a client's own terminal would answer the query a second time, or take the report as
//! its own program's), and parses and validates each report.
//!
//! Reports are untrusted program output. A report that breaks the protocol's alphabet or
//! limits (whole sequence 4096 bytes; key 16; `app` 32; `msg` 2732 encoded / 2048 decoded;
//! `title` 256 / 192; `id` 128 bytes, 8 segments of 32; `progress` 0 to 100) is dropped
//! whole, its bytes included: nothing of it reaches a client or a record. A decoded `msg` or
//! `title` with a control character is such a report. Unknown keys are ignored (a newer
//! program may send them); a known key twice drops the report. CAN or SUB inside a sequence
//! cancels it, as in any terminal; an `ESC` that does not start `ESC \` ends it unterminated
//! (dropped) and starts the next escape.
//!
//! Called by the holder's PTY reader (`holder.rs`) for every chunk, before the chunk reaches
//! the ring. Output with no `ESC` costs one scan and no copy.

use base64::Engine as _;
use paddock_proto::program_status::{BlockedKind, ProgramState, ProgramStatus};
use std::borrow::Cow;

/// `ESC ] 7501 ;`
const PREFIX: &[u8] = b"\x1b]7501;";
/// The whole sequence, `ESC ]` through the terminator.
pub const MAX_SEQUENCE: usize = 4096;
const MAX_KEY: usize = 16;
const MAX_APP: usize = 32;
const MAX_MSG_ENCODED: usize = 2732;
const MAX_MSG_DECODED: usize = 2048;
const MAX_TITLE_ENCODED: usize = 256;
const MAX_TITLE_DECODED: usize = 192;
const MAX_ID: usize = 128;
const MAX_ID_SEGMENT: usize = 32;
const MAX_ID_DEPTH: usize = 8;

/// How a sequence ended; the reply to a query ends the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    /// `BEL` (0x07).
    Bel,
    /// `ESC \`.
    St,
}

/// What the scanner found in one chunk, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// `ESC ] 7501 ; ?`: the program asks whether its terminal speaks the protocol.
    Query(Terminator),
    /// A valid report: replaces the record it is about (`id`), or the program's own.
    Report(ProgramStatus),
    /// `state=clear`: removes the record `id` (the program's own when `None`).
    Clear { id: Option<String> },
    /// A report dropped whole, and why (for the holder's log).
    Dropped(Invalid),
}

/// Why a report was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the sequence is longer than {MAX_SEQUENCE} bytes")]
    TooLong,
    #[error("the sequence holds a control character")]
    Control,
    #[error("the sequence ended without its terminator")]
    Unterminated,
    #[error("a field is not `key=value`")]
    Field,
    #[error("the key `{0}` breaks the protocol's alphabet or length")]
    Key(String),
    #[error("the key `{0}` appears twice")]
    Duplicate(String),
    #[error("the report has no `state`")]
    NoState,
    #[error("the value of `{0}` is not valid")]
    Value(&'static str),
}

/// The reply to a query: the same bytes, with the query's terminator (the pinned Claude Code
/// accepts `BEL` and `ESC \`, not the 8-bit ST).
pub fn reply(t: Terminator) -> &'static [u8] {
    match t {
        Terminator::Bel => b"\x1b]7501;?\x07",
        Terminator::St => b"\x1b]7501;?\x1b\\",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Plain output.
    Ground,
    /// The first `n` bytes of [`PREFIX`] were seen and held back.
    Prefix(usize),
    /// Inside a sequence: its body is in `body`.
    Body,
    /// Inside a sequence, right after an `ESC`.
    BodyEsc,
}

/// Finds OSC 7501 sequences in a stream. One per terminal; keeps what a read left unfinished.
#[derive(Debug)]
pub struct Scanner {
    state: State,
    body: Vec<u8>,
    /// Why the sequence being read is already dropped (its bytes are still consumed).
    bad: Option<Invalid>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    pub fn new() -> Self {
        Self {
            state: State::Ground,
            body: Vec::new(),
            bad: None,
        }
    }

    /// Scans one chunk of output: returns the output without the protocol's sequences, and
    /// appends what it found to `found`. Bytes that may begin a sequence at the chunk's end
    /// are held until the next chunk says.
    pub fn feed<'a>(&mut self, data: &'a [u8], found: &mut Vec<Found>) -> Cow<'a, [u8]> {
        if self.state == State::Ground && !data.contains(&0x1b) {
            return Cow::Borrowed(data);
        }
        let mut out = Vec::with_capacity(data.len());
        for &b in data {
            self.step(b, &mut out, found);
        }
        Cow::Owned(out)
    }

    fn step(&mut self, b: u8, out: &mut Vec<u8>, found: &mut Vec<Found>) {
        match self.state {
            State::Ground => {
                if b == PREFIX[0] {
                    self.state = State::Prefix(1);
                } else {
                    out.push(b);
                }
            }
            State::Prefix(n) => {
                if b == PREFIX[n] {
                    if n + 1 == PREFIX.len() {
                        self.state = State::Body;
                        self.body.clear();
                        self.bad = None;
                    } else {
                        self.state = State::Prefix(n + 1);
                    }
                } else {
                    // Another sequence: give back what was held, then this byte as usual.
                    out.extend_from_slice(&PREFIX[..n]);
                    self.state = State::Ground;
                    self.step(b, out, found);
                }
            }
            State::Body => match b {
                0x07 => self.finish(Terminator::Bel, found),
                0x1b => self.state = State::BodyEsc,
                // CAN and SUB cancel a control sequence in any terminal.
                0x18 | 0x1a => self.state = State::Ground,
                _ if self.bad.is_some() => {}
                0x20..=0x7e => {
                    if PREFIX.len() + self.body.len() + 2 >= MAX_SEQUENCE {
                        self.bad = Some(Invalid::TooLong);
                        self.body.clear();
                    } else {
                        self.body.push(b);
                    }
                }
                _ => {
                    self.bad = Some(Invalid::Control);
                    self.body.clear();
                }
            },
            State::BodyEsc => {
                if b == b'\\' {
                    self.finish(Terminator::St, found);
                } else {
                    // Unterminated: dropped; the ESC starts whatever comes next.
                    found.push(Found::Dropped(Invalid::Unterminated));
                    self.body.clear();
                    self.state = State::Prefix(1);
                    self.step(b, out, found);
                }
            }
        }
    }

    fn finish(&mut self, t: Terminator, found: &mut Vec<Found>) {
        self.state = State::Ground;
        let body = std::mem::take(&mut self.body);
        let result = match self.bad.take() {
            Some(why) => Found::Dropped(why),
            None if body == b"?" => Found::Query(t),
            None => match parse(&body) {
                Ok(f) => f,
                Err(why) => Found::Dropped(why),
            },
        };
        found.push(result);
        // Keep the allocation for the next sequence, not a large one for ever.
        self.body = body;
        self.body.clear();
        self.body.shrink_to(256);
    }
}

/// Parses a report's body (what follows `ESC ] 7501 ;`, without the terminator).
pub fn parse(body: &[u8]) -> Result<Found, Invalid> {
    let mut state = None;
    let mut kind = None;
    let mut app = None;
    let mut message = None;
    let mut title = None;
    let mut progress = None;
    let mut id = None;
    let mut seen: Vec<&[u8]> = Vec::new();
    for field in body.split(|&b| b == b':') {
        let eq = field
            .iter()
            .position(|&b| b == b'=')
            .ok_or(Invalid::Field)?;
        let (key, value) = (&field[..eq], &field[eq + 1..]);
        let key_text = String::from_utf8_lossy(key).into_owned();
        let key_ok = !key.is_empty()
            && key.len() <= MAX_KEY
            && key
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(Invalid::Key(key_text));
        }
        if seen.contains(&key) {
            return Err(Invalid::Duplicate(key_text));
        }
        seen.push(key);
        if !value
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) && b != b';')
        {
            return Err(Invalid::Value(known_key(key).unwrap_or("an unknown key")));
        }
        match key {
            b"state" => state = Some(value),
            b"kind" => kind = Some(parse_kind(value)?),
            b"app" => app = Some(parse_app(value)?),
            b"msg" => message = Some(decode(value, MAX_MSG_ENCODED, MAX_MSG_DECODED, "msg")?),
            b"title" => {
                title = Some(decode(
                    value,
                    MAX_TITLE_ENCODED,
                    MAX_TITLE_DECODED,
                    "title",
                )?)
            }
            b"progress" => progress = Some(parse_progress(value)?),
            b"id" => id = Some(parse_id(value)?),
            // A key of a later revision: ignored.
            _ => {}
        }
    }
    let state = match state.ok_or(Invalid::NoState)? {
        b"clear" => return Ok(Found::Clear { id }),
        b"idle" => ProgramState::Idle,
        b"working" => ProgramState::Working,
        b"blocked" => ProgramState::Blocked,
        b"done" => ProgramState::Done,
        b"error" => ProgramState::Error,
        _ => return Err(Invalid::Value("state")),
    };
    Ok(Found::Report(ProgramStatus {
        state,
        // `kind` says what a blocked program waits for; with another state it means nothing.
        kind: kind.flatten().filter(|_| state == ProgramState::Blocked),
        app,
        message,
        title,
        progress,
        id,
        at: String::new(),
    }))
}

fn known_key(key: &[u8]) -> Option<&'static str> {
    Some(match key {
        b"state" => "state",
        b"kind" => "kind",
        b"app" => "app",
        b"msg" => "msg",
        b"title" => "title",
        b"progress" => "progress",
        b"id" => "id",
        _ => return None,
    })
}

/// A kind this revision does not name is kept as no kind (the program is still blocked).
fn parse_kind(value: &[u8]) -> Result<Option<BlockedKind>, Invalid> {
    Ok(match value {
        b"permission" => Some(BlockedKind::Permission),
        b"question" => Some(BlockedKind::Question),
        b"auth" => Some(BlockedKind::Auth),
        v if !v.is_empty() && v.iter().all(|b| b.is_ascii_lowercase() || *b == b'_') => None,
        _ => return Err(Invalid::Value("kind")),
    })
}

fn parse_app(value: &[u8]) -> Result<String, Invalid> {
    let ok = !value.is_empty()
        && value.len() <= MAX_APP
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| String::from_utf8_lossy(value).into_owned())
        .ok_or(Invalid::Value("app"))
}

fn parse_progress(value: &[u8]) -> Result<u8, Invalid> {
    if value.is_empty() || value.len() > 3 || !value.iter().all(u8::is_ascii_digit) {
        return Err(Invalid::Value("progress"));
    }
    let n = value
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d.saturating_sub(b'0')));
    match u8::try_from(n) {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(Invalid::Value("progress")),
    }
}

fn parse_id(value: &[u8]) -> Result<String, Invalid> {
    let segments: Vec<&[u8]> = value.split(|&b| b == b'.').collect();
    let ok = !value.is_empty()
        && value.len() <= MAX_ID
        && segments.len() <= MAX_ID_DEPTH
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.len() <= MAX_ID_SEGMENT
                && s.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        });
    ok.then(|| String::from_utf8_lossy(value).into_owned())
        .ok_or(Invalid::Value("id"))
}

/// Base64 (standard alphabet, padded or not) of UTF-8 text without control characters.
fn decode(
    value: &[u8],
    max_encoded: usize,
    max_decoded: usize,
    key: &'static str,
) -> Result<String, Invalid> {
    if value.len() > max_encoded {
        return Err(Invalid::Value(key));
    }
    let trimmed = value
        .strip_suffix(b"==")
        .or_else(|| value.strip_suffix(b"="))
        .unwrap_or(value);
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|_| Invalid::Value(key))?;
    if bytes.len() > max_decoded {
        return Err(Invalid::Value(key));
    }
    let text = String::from_utf8(bytes).map_err(|_| Invalid::Value(key))?;
    if text.chars().any(char::is_control) {
        return Err(Invalid::Value(key));
    }
    Ok(text)
}

#[cfg(test)]
mod tests;
