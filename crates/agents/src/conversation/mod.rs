//! A session's conversation (`paddock_proto::conversation`), read from its agent's files:
//! Claude Code transcripts and their sub-agent files ([`claude`]), Codex rollouts ([`codex`]),
//! Aider's chat history ([`aider`]), Gemini CLI's chat files ([`gemini`]).
//!
//! A turn's key ([`Turn::index`], the cursor of pages) is the offset just after the line that
//! started it in the file: it never changes as the file grows, and a turn read on its own
//! from near its start gets the same key as in a read of the whole file. [`reader`] follows
//! one transcript and serves pages newest first, reading a long file from its end. Memory:
//! the turns of the newest part and a few pages, each tool output and text kept up to
//! [`MAX_KEPT`] characters; a page cuts outputs to [`PAGE_OUTPUT`].
//!
//! Called by the supervisor (`paddock-core::conversations`) on a blocking thread.

pub mod aider;
mod calls;
pub mod claude;
pub mod codex;
// --- begin: Gemini CLI (issue 15, item 4) ---
pub mod gemini;
// --- end: Gemini CLI ---
pub mod reader;

pub use reader::{ConversationReader, Polled};

use crate::Prices;
use paddock_proto::conversation::{Item, SubAgentRun, ToolCall, Turn};
use paddock_proto::insight::ModelUsage;
use std::collections::BTreeSet;

/// Characters of one tool output or text kept in memory (and served by [`ConversationReader::turn`]).
pub const MAX_KEPT: usize = 64 * 1024;
/// Characters of a tool output in a page.
pub const PAGE_OUTPUT: usize = 2000;
/// Turns a page holds at most.
pub const MAX_PAGE: usize = 200;

/// The turns read so far (ascending keys), and which changed since last asked.
#[derive(Debug, Default)]
pub struct Conversation {
    turns: Vec<Turn>,
    /// Per turn: where to start reading so that its first line is read (the end of the line
    /// read before it).
    froms: Vec<u64>,
    changed: BTreeSet<u64>,
    /// The line being read: where the line before it ended, and its own end (its key).
    line: (u64, u64),
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

    /// Says which line is read next: where the line before it ended, and where it ends.
    pub fn at_line(&mut self, from: u64, end: u64) {
        self.line = (from, end);
    }

    fn touch(&mut self, i: usize, ts: Option<u64>) -> &mut Turn {
        let t = &mut self.turns[i];
        self.changed.insert(t.index);
        if ts.is_some() {
            t.last_at_ms = ts.max(t.last_at_ms);
        }
        t
    }

    /// Starts a turn: the user's prompt, or `None` when the agent woke by itself.
    pub fn start_turn(&mut self, prompt: Option<String>, ts: Option<u64>) {
        let (from, index) = self.line;
        self.froms.push(from);
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

    /// The tool call `id` in the turn keyed `turn` (marked changed), to fill in its result.
    pub fn tool_mut(&mut self, turn: u64, id: &str, ts: Option<u64>) -> Option<&mut ToolCall> {
        let i = self.position(turn)?;
        self.touch(i, ts)
            .items
            .iter_mut()
            .find_map(|item| match item {
                Item::Tool(call) if call.id == id => Some(&mut **call),
                _ => None,
            })
    }

    /// The key of the open turn (`None` before the first).
    pub fn open_index(&self) -> Option<u64> {
        self.turns.last().map(|t| t.index)
    }

    /// Where the turn keyed `key` is in [`Self::turns`].
    fn position(&self, key: u64) -> Option<usize> {
        self.turns.binary_search_by_key(&key, |t| t.index).ok()
    }

    /// The turn keyed `key`.
    pub fn get(&self, key: u64) -> Option<&Turn> {
        self.turns.get(self.position(key)?)
    }

    /// The turns, ascending keys.
    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }

    /// Drops the `n` oldest turns: their keys and where to read each again.
    fn evict(&mut self, n: usize) -> Vec<(u64, u64)> {
        let n = n.min(self.turns.len());
        let gone: Vec<(u64, u64)> = self
            .turns
            .drain(..n)
            .map(|t| t.index)
            .zip(self.froms.drain(..n))
            .collect();
        if let Some(&(last, _)) = gone.last() {
            self.changed.retain(|&k| k > last);
        }
        gone
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

    /// The turns changed since the last call, by key.
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

/// A turn as served: its sub-agents' runs put under the calls that started them, its cost
/// priced, its question found, and (in a page) long outputs cut.
fn served(
    turn: &Turn,
    prices: &Prices,
    cut_outputs: bool,
    run_of: impl Fn(&str) -> Option<SubAgentRun>,
) -> Turn {
    let mut t = turn.clone();
    for item in &mut t.items {
        if let Item::Tool(call) = item {
            if let Some(run) = run_of(&call.id) {
                call.subagent = Some(run);
            }
        }
    }
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
pub(crate) enum Parser {
    Claude(claude::ClaudeConversation),
    Codex(codex::CodexConversation),
    Aider(aider::AiderConversation),
    Gemini(gemini::GeminiConversation),
}

impl Parser {
    pub(crate) fn for_agent(kind: &crate::AgentKind) -> Option<Parser> {
        use crate::AgentKind;
        match kind {
            AgentKind::Claude => Some(Parser::Claude(claude::ClaudeConversation::default())),
            AgentKind::Codex => Some(Parser::Codex(codex::CodexConversation::default())),
            AgentKind::Aider => Some(Parser::Aider(aider::AiderConversation::default())),
            AgentKind::Gemini => Some(Parser::Gemini(gemini::GeminiConversation::default())),
            _ => None,
        }
    }

    pub(crate) fn fresh(&self) -> Parser {
        match self {
            Parser::Claude(_) => Parser::Claude(claude::ClaudeConversation::default()),
            Parser::Codex(_) => Parser::Codex(codex::CodexConversation::default()),
            Parser::Aider(_) => Parser::Aider(aider::AiderConversation::default()),
            Parser::Gemini(_) => Parser::Gemini(gemini::GeminiConversation::default()),
        }
    }

    pub(crate) fn apply_line(&mut self, conv: &mut Conversation, line: &[u8]) {
        match self {
            Parser::Claude(p) => p.apply_line(conv, line),
            Parser::Codex(p) => p.apply_line(conv, line),
            Parser::Aider(p) => p.apply_line(conv, line),
            Parser::Gemini(p) => p.apply_line(conv, line),
        }
    }

    /// Whether `line` starts a turn whatever came before it, so that the file can be read
    /// from any such line on and give the same turns as a read from the start; `None` for an
    /// agent whose turns depend on everything before (Codex's running totals, Aider's code
    /// blocks; Gemini's messages written again as they change): its file is read from the
    /// start.
    pub(crate) fn starts_turn(&self, line: &[u8]) -> Option<bool> {
        match self {
            Parser::Claude(p) => Some(p.starts_turn(line)),
            Parser::Codex(_) | Parser::Aider(_) | Parser::Gemini(_) => None,
        }
    }

    /// Forgets what it keeps about turns keyed before `key` (they were dropped from memory).
    pub(crate) fn forget_before(&mut self, key: u64) {
        match self {
            Parser::Claude(p) => p.forget_before(key),
            Parser::Codex(_) | Parser::Aider(_) | Parser::Gemini(_) => {}
        }
    }

    /// The key of the turn holding the tool call `id`, if this parser saw it.
    pub(crate) fn turn_of_call(&self, id: &str) -> Option<u64> {
        match self {
            Parser::Claude(p) => p.turn_of_call(id),
            Parser::Codex(_) | Parser::Aider(_) | Parser::Gemini(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AgentKind;
    use std::io::Write;
    use std::path::Path;

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
        let page = r.page(&Prices::default(), None, 10).expect("page");
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
        // A turn's key is where its first line ends.
        let first = text.find('\n').expect("a line") as u64 + 1;
        assert_eq!(r.poll().expect("read").changed, [first]);
        let page = r.page(&Prices::default(), None, 10).expect("page");
        let Item::Tool(call) = &page.turns[0].items[0] else {
            panic!("{:#?}", page.turns)
        };
        assert!(page.turns[0].cut);
        assert_eq!(call.output_chars, Some((PAGE_OUTPUT + 500) as u64));
        assert_eq!(
            call.output.as_ref().map(|o| o.chars().count()),
            Some(PAGE_OUTPUT + 1)
        );
        let whole = r
            .turn(&Prices::default(), first)
            .expect("read")
            .expect("turn");
        let Item::Tool(call) = &whole.items[0] else {
            panic!()
        };
        assert_eq!(call.output.as_deref(), Some(long.as_str()));
        assert!(r.turn(&Prices::default(), 7).expect("read").is_none());

        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        let next = line(serde_json::json!({"type": "user", "message": {"content": "next"}}));
        f.write_all(next.as_bytes()).expect("append");
        f.write_all(b"{\"type\": \"assistant\", \"message\": {\"content\": [{\"type\": \"te")
            .expect("partial");
        let polled = r.poll().expect("read");
        assert_eq!(
            polled,
            Polled {
                changed: vec![(text.len() + next.len()) as u64],
                reset: false
            }
        );
        assert_eq!(r.total(), Some(2));

        // The file replaced by a shorter one: read again from its start.
        write(
            &path,
            &line(serde_json::json!({"type": "user", "message": {"content": "fresh"}})),
        );
        let polled = r.poll().expect("read");
        assert!(polled.reset);
        let page = r.page(&Prices::default(), None, 10).expect("page");
        assert_eq!(page.turns.len(), 1);
        assert_eq!(page.turns[0].prompt.as_deref(), Some("fresh"));
    }

    #[test]
    fn an_agent_without_a_transcript_is_an_error_that_says_so() {
        let e = ConversationReader::open(&AgentKind::Other("vim".into()), Path::new("/nope"))
            .expect_err("vim");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
