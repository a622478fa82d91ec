//! [`ConversationReader`]: one session's conversation, followed from its transcript file and
//! served a page at a time, newest first.
//!
//! A long file is read from its end: the first [`ConversationReader::poll`] reads backwards
//! (`crate::backward`) to the start of the newest [`FIRST_TURNS`] turns and parses forwards
//! from there (the *live* part, which then follows what is appended). Older pages are read
//! when asked for: the turn starts before the live part are found backwards, a stretch of
//! turns is parsed from the start of the turn before it through the line that starts the turn
//! after it (so that what a turn takes from its neighbours is read as a whole-file read reads
//! it) and a few stretches are kept. Turn keys are line offsets, so a page read this way is
//! the page a read of the whole file gives, and cursors stay valid as the file grows.
//!
//! This needs an agent whose turn starts can be told from a line alone (Claude Code); the
//! others' files are read from their start. Memory: the live part (at most [`LIVE_MAX`]
//! turns; older ones are dropped and read again when asked for), [`CACHED`] stretches, and
//! 16 bytes per turn start found. A tool result written more than [`LIVE_MAX`] turns after
//! its call is not shown on that call.

use super::{claude, served, Conversation, Parser, MAX_PAGE};
use crate::backward::{last_line_end, lines_backwards};
use crate::tail::{read_new_lines, ReadOutcome, TailPosition, DEFAULT_MAX_LINE};
use crate::{AgentError, AgentKind, Prices};
use paddock_proto::conversation::{ConversationPage, SubAgentRun, Turn};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};

mod pages;

/// Turns read when a session is opened: the newest ones.
pub const FIRST_TURNS: usize = 64;
/// Turns the live part keeps; beyond, the oldest are dropped down to [`MAX_PAGE`].
pub const LIVE_MAX: usize = 4 * MAX_PAGE;
/// Stretches of older turns kept.
const CACHED: usize = 4;
/// Turn starts looked for per step backwards.
const SCAN_STEP: usize = 256;
/// Bytes read per poll step, so a long first read yields between steps.
const READ_BUDGET: u64 = 8 * 1024 * 1024;

/// Where a turn starts: its key (the end of its first line) and where to read from to read
/// that line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Start {
    key: u64,
    from: u64,
}

/// The newest part of the file, parsed forwards and followed as it grows.
#[derive(Debug)]
struct Live {
    parser: Parser,
    conv: Conversation,
    pos: TailPosition,
    /// Turns keyed from here on are read as a whole-file read reads them (the one before, if
    /// any, was only read for them).
    trusted: u64,
}

/// Older turns read from the file: those keyed in `lo..hi`.
#[derive(Debug)]
struct Stretch {
    lo: u64,
    hi: u64,
    turns: Vec<Turn>,
}

/// A Claude Code sub-agent's file, followed beside the main transcript.
#[derive(Debug)]
struct SubReader {
    pos: TailPosition,
    parser: claude::ClaudeConversation,
    conv: Conversation,
    meta: Option<claude::SubAgentMeta>,
}

/// What one poll found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Polled {
    /// Turns that are new or changed, by key.
    pub changed: Vec<u64>,
    /// The file was replaced or cut: everything was read again.
    pub reset: bool,
}

/// One session's conversation, followed from its transcript file.
#[derive(Debug)]
pub struct ConversationReader {
    agent: AgentKind,
    path: PathBuf,
    template: Parser,
    /// Read from the file's end (else from its start).
    tail_first: bool,
    /// Turns read first, and kept live at most ([`FIRST_TURNS`], [`LIVE_MAX`]).
    first_turns: usize,
    live_max: usize,
    /// `None` until the first poll, and after the file changed under a read.
    live: Option<Live>,
    /// The file changed under a read: the next poll says so.
    rewritten: bool,
    /// Turn starts before the live part, ascending: all of those at or after `scanned_from`.
    starts: Vec<Start>,
    scanned_from: u64,
    stretches: VecDeque<Stretch>,
    subagents: HashMap<PathBuf, SubReader>,
    /// Sub-agent files by the id of the call that started them.
    by_call: HashMap<String, PathBuf>,
}

impl ConversationReader {
    /// A reader of `path`, which `kind` writes, reading a long file from its end when the
    /// agent allows it; nothing is read until [`Self::poll`].
    pub fn open(kind: &AgentKind, path: &Path) -> Result<Self, AgentError> {
        let template = Parser::for_agent(kind).ok_or_else(|| AgentError::NoTranscript {
            agent: kind.to_string(),
        })?;
        Ok(Self {
            agent: kind.clone(),
            path: path.to_owned(),
            tail_first: template.starts_turn(b"").is_some(),
            template,
            first_turns: FIRST_TURNS,
            live_max: LIVE_MAX,
            live: None,
            rewritten: false,
            starts: Vec::new(),
            scanned_from: 0,
            stretches: VecDeque::new(),
            subagents: HashMap::new(),
            by_call: HashMap::new(),
        })
    }

    /// A reader that reads the whole file from its start (the reference that reading from the
    /// end is checked and measured against).
    pub fn open_whole(kind: &AgentKind, path: &Path) -> Result<Self, AgentError> {
        let mut r = Self::open(kind, path)?;
        r.tail_first = false;
        Ok(r)
    }

    /// Reads `first_turns` turns first and keeps at most `live_max` live (at least 1 and
    /// [`MAX_PAGE`]): smaller figures read more of the file lazily.
    pub fn sized(mut self, first_turns: usize, live_max: usize) -> Self {
        self.first_turns = first_turns.max(1);
        self.live_max = live_max.max(MAX_PAGE);
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> AgentError {
        AgentError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads what was appended since the last poll (the newest turns the first time) and, for
    /// Claude Code, its sub-agents' files.
    pub fn poll(&mut self) -> Result<Polled, AgentError> {
        let mut out = Polled {
            reset: std::mem::take(&mut self.rewritten),
            ..Polled::default()
        };
        loop {
            if self.live.is_none() {
                self.open_newest()?;
            }
            let Some(live) = self.live.as_mut() else {
                break;
            };
            let read = read_lines(
                &self.path,
                &mut live.pos,
                READ_BUDGET,
                &mut live.parser,
                &mut live.conv,
            )?;
            if read.reset {
                // The file was replaced: start over from its (new) end.
                out.reset = true;
                self.live = None;
                self.subagents.clear();
                self.by_call.clear();
                continue;
            }
            if read.bytes == 0 {
                break;
            }
        }
        if matches!(self.template, Parser::Claude(_)) {
            self.poll_subagents();
        }
        self.keep_live_bounded();
        if let Some(live) = self.live.as_mut() {
            let trusted = live.trusted;
            out.changed = live.conv.take_changed();
            out.changed.retain(|&k| k >= trusted);
        }
        Ok(out)
    }

    /// Finds where the newest turns start (reading backwards) and sets the live part to read
    /// from there; the whole file when the agent's turns cannot be found that way.
    fn open_newest(&mut self) -> Result<(), AgentError> {
        let mut file = File::open(&self.path).map_err(|e| self.io(e))?;
        let mut pos = TailPosition::at(&mut file, 0).map_err(|e| self.io(e))?;
        self.starts.clear();
        self.stretches.clear();
        self.scanned_from = 0;
        let mut trusted = 0;
        if self.tail_first {
            let len = file.metadata().map_err(|e| self.io(e))?.len();
            let end = last_line_end(&mut file, len).map_err(|e| self.io(e))?;
            let mut found = Vec::new();
            let (template, first_turns) = (&self.template, self.first_turns);
            lines_backwards(&mut file, end, DEFAULT_MAX_LINE, |line, from, key| {
                if template.starts_turn(line) == Some(true) {
                    found.push(Start { key, from });
                }
                found.len() <= first_turns
            })
            .map_err(|e| self.io(e))?;
            if let (Some(&overlap), Some(first)) =
                (found.get(first_turns), found.get(first_turns - 1))
            {
                // The turn before the newest ones is read too, for what they take from it.
                trusted = first.key;
                pos.offset = overlap.from;
                self.starts.push(overlap);
                self.scanned_from = overlap.from;
            }
        }
        self.live = Some(Live {
            parser: self.template.fresh(),
            conv: Conversation::default(),
            pos,
            trusted,
        });
        Ok(())
    }

    /// Drops the oldest live turns beyond [`LIVE_MAX`]: they are read again when asked for.
    fn keep_live_bounded(&mut self) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        if !self.tail_first || live.conv.turns.len() <= self.live_max {
            return;
        }
        let n = live.conv.turns.len() - MAX_PAGE;
        let trusted = live.trusted;
        for (key, from) in live.conv.evict(n) {
            if key >= trusted {
                self.starts.push(Start { key, from });
            }
        }
        live.trusted = live.conv.turns.first().map_or(u64::MAX, |t| t.index);
        live.parser.forget_before(live.trusted);
    }

    /// Reads the sub-agent files of a Claude Code session
    /// (`<transcript without .jsonl>/subagents/agent-<id>.jsonl`); a live turn whose call's
    /// run grew is marked changed.
    fn poll_subagents(&mut self) {
        let dir = self.path.with_extension("").join("subagents");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "jsonl") {
                continue;
            }
            let sub = self
                .subagents
                .entry(path.clone())
                .or_insert_with(|| SubReader {
                    pos: TailPosition::default(),
                    parser: claude::ClaudeConversation::sidechain(),
                    conv: Conversation::default(),
                    meta: None,
                });
            let SubReader {
                pos, parser, conv, ..
            } = sub;
            let mut prev = pos.offset;
            match read_new_lines(&path, pos, DEFAULT_MAX_LINE, READ_BUDGET, |line, end| {
                conv.at_line(prev, end);
                parser.apply_line(conv, line);
                prev = end;
            }) {
                Ok(r) if r.lines == 0 && sub.meta.is_some() => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(path = %path.display(), error = %e, "cannot read a sub-agent's transcript");
                    continue;
                }
            }
            if sub.meta.is_none() {
                sub.meta = claude::SubAgentMeta::read(&path);
            }
            let Some(meta) = &sub.meta else { continue };
            self.by_call.insert(meta.tool_use_id.clone(), path.clone());
            if let Some(live) = self.live.as_mut() {
                if let Some(key) = live.parser.turn_of_call(&meta.tool_use_id) {
                    if live.conv.get(key).is_some() {
                        live.conv.changed.insert(key);
                    }
                }
            }
        }
    }

    /// The run of the sub-agent the call `id` started, if its file was read.
    fn run_of(&self, id: &str) -> Option<SubAgentRun> {
        let path = self.by_call.get(id)?;
        let sub = self.subagents.get(path)?;
        Some(sub.meta.as_ref()?.run(path, sub.conv.all_items()))
    }
}

/// Reads the complete lines after `pos` (about `budget` bytes) into `conv` with `parser`.
fn read_lines(
    path: &Path,
    pos: &mut TailPosition,
    budget: u64,
    parser: &mut Parser,
    conv: &mut Conversation,
) -> Result<ReadOutcome, AgentError> {
    let mut prev = pos.offset;
    read_new_lines(path, pos, DEFAULT_MAX_LINE, budget, |line, end| {
        conv.at_line(prev, end);
        parser.apply_line(conv, line);
        prev = end;
    })
    .map_err(|source| AgentError::Io {
        path: path.to_owned(),
        source,
    })
}
