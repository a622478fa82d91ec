//! A session's conversation (`paddock_proto::conversation`), read from its agent's files:
//! Claude Code transcripts and their sub-agent files ([`claude`]), Codex rollouts ([`codex`]),
//! Aider's chat history ([`aider`]).
//!
//! [`ConversationReader`] follows one transcript: each [`ConversationReader::poll`] reads only
//! what was appended (whole lines, as [`crate::tail`] gives them) and says which turns changed;
//! [`ConversationReader::page`] serves the newest turns before a cursor with long outputs cut,
//! [`ConversationReader::turn`] one turn whole. Memory: every turn, with each tool output and
//! text kept up to [`MAX_KEPT`] characters; a page cuts outputs to [`PAGE_OUTPUT`].
//!
//! Called by the supervisor (`paddock-core::conversations`) on a blocking thread.

pub mod aider;
pub mod claude;
pub mod codex;

use crate::tail::{read_new_lines, TailPosition, DEFAULT_MAX_LINE};
use crate::{AgentError, AgentKind, Prices};
use paddock_proto::conversation::{ConversationPage, Item, ToolCall, Turn};
use paddock_proto::insight::ModelUsage;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Characters of one tool output or text kept in memory (and served by [`ConversationReader::turn`]).
pub const MAX_KEPT: usize = 64 * 1024;
/// Characters of a tool output in a page.
pub const PAGE_OUTPUT: usize = 2000;
/// Turns a page holds at most.
pub const MAX_PAGE: usize = 200;
/// Bytes read per poll step, so a long first read yields between steps.
const READ_BUDGET: u64 = 8 * 1024 * 1024;

/// The turns read so far, and which changed since last asked.
#[derive(Debug, Default)]
pub struct Conversation {
    turns: Vec<Turn>,
    changed: BTreeSet<u64>,
}

impl Conversation {
    /// The open (latest) turn, started (without a prompt) when there is none.
    fn current(&mut self, ts: Option<u64>) -> &mut Turn {
        if self.turns.is_empty() {
            self.start_turn(None, ts);
        }
        let i = self.turns.len() - 1;
        self.touch(i, ts)
    }

    fn touch(&mut self, i: usize, ts: Option<u64>) -> &mut Turn {
        self.changed.insert(i as u64);
        let t = &mut self.turns[i];
        if ts.is_some() {
            t.last_at_ms = ts.max(t.last_at_ms);
        }
        t
    }

    /// Starts a turn: the user's prompt, or `None` when the agent woke by itself.
    pub fn start_turn(&mut self, prompt: Option<String>, ts: Option<u64>) {
        let index = self.turns.len() as u64;
        self.turns.push(Turn {
            index,
            prompt,
            started_at_ms: ts,
            last_at_ms: ts,
            ..Turn::default()
        });
        self.changed.insert(index);
    }

    /// Adds an item to the open turn; a text right after a text joins it.
    pub fn push(&mut self, item: Item, ts: Option<u64>) {
        let turn = self.current(ts);
        if let (Some(Item::Text { text: last }), Item::Text { text }) =
            (turn.items.last_mut(), &item)
        {
            last.push_str("\n\n");
            last.push_str(text);
            *last = keep(last);
            return;
        }
        turn.items.push(item);
    }

    /// Adds one line of the agent's text to the open turn (a line-based history like
    /// Aider's): joined to the text it follows with a newline.
    pub fn push_line(&mut self, line: &str) {
        let turn = self.current(None);
        match turn.items.last_mut() {
            Some(Item::Text { text }) if text.len() < MAX_KEPT => {
                text.push('\n');
                text.push_str(line);
            }
            Some(Item::Text { .. }) => {}
            _ if line.trim().is_empty() => {}
            _ => turn.items.push(Item::Text {
                text: line.to_owned(),
            }),
        }
    }

    /// Counts one response's tokens in the open turn.
    pub fn add_usage(&mut self, usage: ModelUsage, ts: Option<u64>) {
        let turn = self.current(ts);
        match turn.tokens.iter_mut().find(|u| u.model == usage.model) {
            Some(u) => {
                u.input += usage.input;
                u.output += usage.output;
                u.cache_creation += usage.cache_creation;
                u.cache_read += usage.cache_read;
            }
            None => turn.tokens.push(usage),
        }
    }

    /// The tool call `id` in turn `turn` (marked changed), to fill in its result.
    pub fn tool_mut(&mut self, turn: u64, id: &str, ts: Option<u64>) -> Option<&mut ToolCall> {
        let i = usize::try_from(turn)
            .ok()
            .filter(|&i| i < self.turns.len())?;
        self.touch(i, ts)
            .items
            .iter_mut()
            .find_map(|item| match item {
                Item::Tool(call) if call.id == id => Some(&mut **call),
                _ => None,
            })
    }

    /// The index of the open turn (`None` before the first).
    pub fn open_index(&self) -> Option<u64> {
        self.turns.len().checked_sub(1).map(|i| i as u64)
    }

    /// Every item of every turn, in order (a sub-agent's run is shown as one list).
    pub fn all_items(&self) -> Vec<Item> {
        self.turns.iter().flat_map(|t| t.items.clone()).collect()
    }

    pub fn len(&self) -> u64 {
        self.turns.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// The turns changed since the last call, by index.
    pub fn take_changed(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.changed).into_iter().collect()
    }
}

/// `s` cut to [`MAX_KEPT`] characters.
pub(crate) fn keep(s: &str) -> String {
    cut_chars(s, MAX_KEPT).0
}

/// `s` cut to `max` characters (with an ellipsis), and whether it was.
fn cut_chars(s: &str, max: usize) -> (String, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (format!("{}…", &s[..i]), true),
        None => (s.to_owned(), false),
    }
}

/// The question a turn ends with: the last sentence of its last text, when that ends with `?`.
fn ending_question(turn: &Turn) -> Option<String> {
    let last = turn
        .items
        .iter()
        .rev()
        .find(|i| !matches!(i, Item::Thinking { .. }))?;
    let Item::Text { text } = last else {
        return None;
    };
    let text = text.trim_end();
    let body = text.strip_suffix('?')?;
    // The sentence starts after the last sentence end (or line break) before the `?`.
    let start = body
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            c == '\n'
                || (matches!(c, '.' | '!' | '?' | ':')
                    && body[i + c.len_utf8()..].starts_with(char::is_whitespace))
        })
        .map_or(0, |(i, c)| i + c.len_utf8());
    Some(text[start..].trim().to_owned())
}

/// A turn as served: its cost priced, its question found, and (in a page) long outputs cut.
fn served(turn: &Turn, prices: &Prices, cut_outputs: bool) -> Turn {
    let mut t = turn.clone();
    let cost = prices.cost(&t.tokens, None);
    t.cost_usd = cost.estimated_usd;
    t.unpriced_models = cost.unpriced_models;
    t.question = ending_question(&t);
    if cut_outputs {
        let mut any = false;
        cut_items(&mut t.items, &mut any);
        t.cut = any;
    }
    t
}

fn cut_items(items: &mut [Item], any: &mut bool) {
    for item in items {
        let Item::Tool(call) = item else { continue };
        if let Some(out) = &call.output {
            let (short, was) = cut_chars(out, PAGE_OUTPUT);
            if was {
                call.output_chars = Some(out.chars().count() as u64);
                call.output = Some(short);
                *any = true;
            }
        }
        if let Some(run) = &mut call.subagent {
            cut_items(&mut run.items, any);
        }
    }
}

/// One agent's way of reading its transcript's lines into a [`Conversation`].
#[derive(Debug)]
enum Parser {
    Claude(claude::ClaudeConversation),
    Codex(codex::CodexConversation),
    Aider(aider::AiderConversation),
}

impl Parser {
    fn for_agent(kind: &AgentKind) -> Option<Parser> {
        match kind {
            AgentKind::Claude => Some(Parser::Claude(claude::ClaudeConversation::default())),
            AgentKind::Codex => Some(Parser::Codex(codex::CodexConversation::default())),
            AgentKind::Aider => Some(Parser::Aider(aider::AiderConversation::default())),
            _ => None,
        }
    }

    fn fresh(&self) -> Parser {
        match self {
            Parser::Claude(_) => Parser::Claude(claude::ClaudeConversation::default()),
            Parser::Codex(_) => Parser::Codex(codex::CodexConversation::default()),
            Parser::Aider(_) => Parser::Aider(aider::AiderConversation::default()),
        }
    }

    fn apply_line(&mut self, conv: &mut Conversation, line: &[u8]) {
        match self {
            Parser::Claude(p) => p.apply_line(conv, line),
            Parser::Codex(p) => p.apply_line(conv, line),
            Parser::Aider(p) => p.apply_line(conv, line),
        }
    }
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
    /// Turns that are new or changed, by index.
    pub changed: Vec<u64>,
    /// The file was replaced or cut: everything was read again from its start.
    pub reset: bool,
}

/// One session's conversation, followed from its transcript file.
#[derive(Debug)]
pub struct ConversationReader {
    agent: AgentKind,
    path: PathBuf,
    pos: TailPosition,
    parser: Parser,
    conv: Conversation,
    subagents: HashMap<PathBuf, SubReader>,
}

impl ConversationReader {
    /// A reader of `path`, which `kind` writes; nothing is read until [`Self::poll`].
    pub fn open(kind: &AgentKind, path: &Path) -> Result<Self, AgentError> {
        let parser = Parser::for_agent(kind).ok_or_else(|| AgentError::NoTranscript {
            agent: kind.to_string(),
        })?;
        Ok(Self {
            agent: kind.clone(),
            path: path.to_owned(),
            pos: TailPosition::default(),
            parser,
            conv: Conversation::default(),
            subagents: HashMap::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what was appended since the last poll (the whole file the first time) and, for
    /// Claude Code, its sub-agents' files.
    pub fn poll(&mut self) -> Result<Polled, AgentError> {
        let mut out = Polled::default();
        loop {
            let Self {
                parser, conv, pos, ..
            } = self;
            let read = read_new_lines(&self.path, pos, DEFAULT_MAX_LINE, READ_BUDGET, |line, _| {
                parser.apply_line(conv, line)
            })
            .map_err(|source| AgentError::Io {
                path: self.path.clone(),
                source,
            })?;
            if read.reset {
                // The file was replaced: what this read gave went into the old conversation;
                // start over and read the new file from its start.
                out.reset = true;
                self.conv = Conversation::default();
                self.parser = self.parser.fresh();
                self.pos = TailPosition::default();
                self.subagents.clear();
                continue;
            }
            if read.bytes == 0 {
                break;
            }
        }
        if matches!(self.parser, Parser::Claude(_)) {
            self.poll_subagents();
        }
        out.changed = self.conv.take_changed();
        Ok(out)
    }

    /// Reads the sub-agent files of a Claude Code session
    /// (`<transcript without .jsonl>/subagents/agent-<id>.jsonl`) and puts each run under the
    /// tool call that started it.
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
            match read_new_lines(&path, pos, DEFAULT_MAX_LINE, READ_BUDGET, |line, _| {
                parser.apply_line(conv, line)
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
            let run = meta.run(&path, sub.conv.all_items());
            let Parser::Claude(p) = &self.parser else {
                return;
            };
            if let Some(turn) = p.turn_of_call(&meta.tool_use_id) {
                if let Some(call) = self.conv.tool_mut(turn, &meta.tool_use_id, None) {
                    call.subagent = Some(run);
                }
            }
        }
    }

    /// The newest `limit` turns before turn `before` (all turns when `None`), oldest first,
    /// long outputs cut.
    pub fn page(&self, prices: &Prices, before: Option<u64>, limit: usize) -> ConversationPage {
        let total = self.conv.turns.len();
        let end = before.map_or(total, |b| {
            usize::try_from(b).unwrap_or(usize::MAX).min(total)
        });
        let start = end.saturating_sub(limit.clamp(1, MAX_PAGE));
        ConversationPage {
            agent: self.agent.to_string(),
            turns: self.conv.turns[start..end]
                .iter()
                .map(|t| served(t, prices, true))
                .collect(),
            older: (start > 0).then_some(start as u64),
            total: total as u64,
        }
    }

    /// Turn `index` whole (outputs up to [`MAX_KEPT`] characters).
    pub fn turn(&self, prices: &Prices, index: u64) -> Option<Turn> {
        let t = self.conv.turns.get(usize::try_from(index).ok()?)?;
        Some(served(t, prices, false))
    }

    /// Turns `indexes` as a page serves them (for live updates).
    pub fn turns(&self, prices: &Prices, indexes: &[u64]) -> Vec<Turn> {
        indexes
            .iter()
            .filter_map(|&i| self.conv.turns.get(usize::try_from(i).ok()?))
            .map(|t| served(t, prices, true))
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.conv.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn an_aider_history_reads_as_turns_with_notes_and_tokens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".aider.chat.history.md");
        write(
            &path,
            "\n# aider chat started at 2026-12-01 10:00:00\n\n#### add a greeting\n\nI'll add it.\n\n```python\nprint('hi')\n\n#### not a prompt inside code\n```\n\n> Applied edit to hello.py\n> Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.01 session.\n\n#### and a test?\n\nShall I run it?\n",
        );
        let mut r = ConversationReader::open(&AgentKind::Aider, &path).expect("open");
        r.poll().expect("read");
        let page = r.page(&Prices::default(), None, 10);
        let prompts: Vec<_> = page.turns.iter().map(|t| t.prompt.as_deref()).collect();
        assert_eq!(prompts, [Some("add a greeting"), Some("and a test?")]);
        let t0 = &page.turns[0];
        let Item::Text { text } = &t0.items[0] else {
            panic!("{:#?}", t0.items)
        };
        assert!(
            text.contains("```python\nprint('hi')\n\n#### not a prompt inside code\n```"),
            "{text}"
        );
        assert!(
            matches!(&t0.items[1], Item::Notice { text } if text == "Applied edit to hello.py")
        );
        assert_eq!((t0.tokens[0].input, t0.tokens[0].output), (2300, 150));
        assert_eq!(page.turns[1].question.as_deref(), Some("Shall I run it?"));
    }

    #[test]
    fn pages_cut_long_outputs_and_the_turn_is_whole_and_appends_change_only_new_turns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.jsonl");
        let long = "x".repeat(PAGE_OUTPUT + 500);
        let line = |v: serde_json::Value| format!("{v}\n");
        let mut text = line(serde_json::json!({"type": "user", "message": {"content": "run it"}}));
        text += &line(
            serde_json::json!({"type": "assistant", "message": {"id": "m1", "content": [
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "yes x"}}]}}),
        );
        text += &line(serde_json::json!({"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": long}]}}));
        text += "not json\n";
        write(&path, &text);
        let mut r = ConversationReader::open(&AgentKind::Claude, &path).expect("open");
        assert_eq!(r.poll().expect("read").changed, [0]);
        let page = r.page(&Prices::default(), None, 10);
        let Item::Tool(call) = &page.turns[0].items[0] else {
            panic!("{:#?}", page.turns)
        };
        assert!(page.turns[0].cut);
        assert_eq!(call.output_chars, Some((PAGE_OUTPUT + 500) as u64));
        assert_eq!(
            call.output.as_ref().map(|o| o.chars().count()),
            Some(PAGE_OUTPUT + 1)
        );
        let whole = r.turn(&Prices::default(), 0).expect("turn");
        let Item::Tool(call) = &whole.items[0] else {
            panic!()
        };
        assert_eq!(call.output.as_deref(), Some(long.as_str()));
        assert!(r.turn(&Prices::default(), 7).is_none());

        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(
            line(serde_json::json!({"type": "user", "message": {"content": "next"}})).as_bytes(),
        )
        .expect("append");
        f.write_all(b"{\"type\": \"assistant\", \"message\": {\"content\": [{\"type\": \"te")
            .expect("partial");
        let polled = r.poll().expect("read");
        assert_eq!(
            polled,
            Polled {
                changed: vec![1],
                reset: false
            }
        );
        assert_eq!(r.total(), 2);

        // The file replaced by a shorter one: read again from its start.
        write(
            &path,
            &line(serde_json::json!({"type": "user", "message": {"content": "fresh"}})),
        );
        let polled = r.poll().expect("read");
        assert!(polled.reset);
        let page = r.page(&Prices::default(), None, 10);
        assert_eq!(page.turns.len(), 1);
        assert_eq!(page.turns[0].prompt.as_deref(), Some("fresh"));
    }

    #[test]
    fn an_agent_without_a_transcript_is_an_error_that_says_so() {
        let e =
            ConversationReader::open(&AgentKind::Gemini, Path::new("/nope")).expect_err("gemini");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
