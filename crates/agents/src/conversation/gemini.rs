//! Gemini CLI's chat file (`~/.gemini/tmp/<project>/chats/session-<time>-<id>.jsonl`, 0.61.0)
//! as a conversation. Each line is one record: the session's metadata (`sessionId`,
//! `projectHash`), a metadata update (`{"$set": {...}}`, whose `messages` replace the list), a
//! rewind (`{"$rewindTo": id}`), or a message (`id`, `timestamp`, `type`: `user`, `gemini`,
//! `info`, `warning`, `error`). A message is written again, whole, each time it changes (its
//! tokens, its tool calls and their results): a later copy of an id adds what is new.
//!
//! A `user` message with typed text starts a turn (its `displayContent`, what the user typed,
//! before `content`; Gemini's own `<session_context>` and slash commands are not prompts);
//! one carrying only `functionResponse` parts is a tool result, shown on its call. A `gemini`
//! message gives thoughts (`subject: description`), text, tokens and `toolCalls` (`name`,
//! `args`, `status`, `result[].functionResponse.response.output`). Rewinds are not undone in
//! the view (the rewound turns stay).

use super::calls::ShownCalls;
use super::{keep, Conversation};
use crate::claude::transcript::parse_time;
use crate::json::str_of;
use paddock_proto::conversation::{Item, ToolCall};
use paddock_proto::insight::ModelUsage;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// What was taken from one message so far (a later copy adds only the rest).
#[derive(Debug, Default)]
struct Seen {
    text: bool,
    thoughts: usize,
    tokens: bool,
}

/// The reading state of one chat file.
#[derive(Debug, Default)]
pub struct GeminiConversation {
    seen: HashMap<String, Seen>,
    /// Every tool call shown: its turn and start (for results in a later `user` message).
    calls: ShownCalls,
    /// Tool calls whose result is shown.
    done: HashSet<String>,
}

/// The text parts of a message's content (a string or a list of parts), joined.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| str_of(p, "text"))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Text Gemini CLI itself adds as a user message, or a command: not a prompt.
fn not_a_prompt(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || t.starts_with('/')
        || t.starts_with('?')
        || t.starts_with("<session_context>")
        || t.starts_with("<hook_context>")
}

/// A tool result's text: `output`, else `error`, else the response as JSON.
fn response_text(response: &Value) -> String {
    str_of(response, "output")
        .or_else(|| str_of(response, "error"))
        .map(str::to_owned)
        .unwrap_or_else(|| response.to_string())
}

/// The `functionResponse`s among `parts`: `(id, response)`.
fn responses(parts: Option<&Value>) -> Vec<(&str, &Value)> {
    parts
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("functionResponse"))
        .filter_map(|r| Some((str_of(r, "id")?, r.get("response")?)))
        .collect()
}

impl GeminiConversation {
    pub fn apply_line(&mut self, conv: &mut Conversation, line: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        if let Some(messages) = v.pointer("/$set/messages").and_then(Value::as_array) {
            for m in messages {
                self.message(conv, m);
            }
        } else if v.get("id").and_then(Value::as_str).is_some() {
            self.message(conv, &v);
        }
    }

    fn message(&mut self, conv: &mut Conversation, m: &Value) {
        let Some(id) = str_of(m, "id") else {
            return;
        };
        let ts = str_of(m, "timestamp").and_then(parse_time);
        match str_of(m, "type").unwrap_or("") {
            "user" => self.user(conv, id, m, ts),
            "gemini" => self.gemini(conv, id, m, ts),
            "error" if !self.seen.contains_key(id) => {
                self.seen.insert(id.to_owned(), Seen::default());
                conv.push(
                    Item::ApiError {
                        status: None,
                        message: keep(&text_of(m.get("content"))),
                    },
                    ts,
                );
            }
            "info" | "warning" => {
                let text = text_of(m.get("content"));
                if !self.seen.contains_key(id) && !text.trim().is_empty() {
                    self.seen.insert(id.to_owned(), Seen::default());
                    conv.push(Item::Notice { text: keep(&text) }, ts);
                }
            }
            _ => {}
        }
    }

    fn user(&mut self, conv: &mut Conversation, id: &str, m: &Value, ts: Option<u64>) {
        if self.seen.contains_key(id) {
            return;
        }
        self.seen.insert(id.to_owned(), Seen::default());
        let results = responses(m.get("content"));
        if !results.is_empty() {
            for (call, response) in results {
                self.finish(conv, call, None, response, ts);
            }
            return;
        }
        let typed = match m.get("displayContent") {
            Some(d) if !d.is_null() => text_of(Some(d)),
            _ => text_of(m.get("content")),
        };
        if !not_a_prompt(&typed) {
            conv.start_turn(Some(keep(typed.trim())), ts);
        }
    }

    fn gemini(&mut self, conv: &mut Conversation, id: &str, m: &Value, ts: Option<u64>) {
        let mut seen = self.seen.remove(id).unwrap_or_default();
        let thoughts = m.get("thoughts").and_then(Value::as_array);
        for t in thoughts.into_iter().flatten().skip(seen.thoughts) {
            let text = match (str_of(t, "subject"), str_of(t, "description")) {
                (Some(s), Some(d)) if !s.is_empty() => format!("**{s}**\n{d}"),
                (s, d) => d.or(s).unwrap_or_default().to_owned(),
            };
            seen.thoughts += 1;
            if !text.trim().is_empty() {
                conv.push(Item::Thinking { text: keep(&text) }, ts);
            }
        }
        let text = text_of(m.get("content"));
        if !seen.text && !text.trim().is_empty() {
            seen.text = true;
            conv.push(Item::Text { text: keep(&text) }, ts);
        }
        if let Some(tokens) = m.get("tokens").filter(|t| t.is_object()) {
            if !seen.tokens {
                seen.tokens = true;
                let n = |k: &str| tokens.get(k).and_then(Value::as_u64).unwrap_or(0);
                let cached = n("cached");
                conv.add_usage(
                    ModelUsage {
                        model: str_of(m, "model").unwrap_or("gemini").to_owned(),
                        input: n("input").saturating_sub(cached),
                        output: n("output") + n("thoughts"),
                        cache_creation: 0,
                        cache_read: cached,
                    },
                    ts,
                );
            }
        }
        let calls = m.get("toolCalls").and_then(Value::as_array);
        for call in calls.into_iter().flatten() {
            let Some(call_id) = str_of(call, "id") else {
                continue;
            };
            if !self.calls.contains(call_id) {
                let tool = str_of(call, "name").unwrap_or("tool").to_owned();
                let input = call.get("args").cloned().unwrap_or(Value::Null);
                let summary = str_of(call, "description")
                    .filter(|d| !d.trim().is_empty())
                    .map(|d| crate::claude::tools::one_line(d, 200))
                    .unwrap_or_else(|| crate::claude::tools::one_line(&input.to_string(), 200));
                let call = ToolCall {
                    id: call_id.to_owned(),
                    tool,
                    summary,
                    input,
                    ..ToolCall::default()
                };
                self.calls.start(conv, call, ts);
            }
            let status = str_of(call, "status");
            if matches!(status, Some("success" | "error" | "cancelled")) {
                let at = str_of(call, "timestamp").and_then(parse_time).or(ts);
                let results = responses(call.get("result"));
                let response = results.first().map(|r| r.1.clone()).unwrap_or(Value::Null);
                self.finish(conv, call_id, status, &response, at);
            }
        }
        self.seen.insert(id.to_owned(), seen);
    }

    /// Shows a tool call's result (once): its status (`success`, `error`, `cancelled`; from
    /// the response when not given) and output.
    fn finish(
        &mut self,
        conv: &mut Conversation,
        call_id: &str,
        status: Option<&str>,
        response: &Value,
        at: Option<u64>,
    ) {
        if self.done.contains(call_id) {
            return;
        }
        let failed = match status {
            Some(s) => s != "success",
            None => response.get("error").is_some(),
        };
        let Some(call) = self.calls.finish(conv, call_id, failed, None, at) else {
            return;
        };
        self.done.insert(call_id.to_owned());
        if !response.is_null() {
            call.output = Some(keep(&response_text(response)));
        } else if status == Some("cancelled") {
            call.output = Some("cancelled".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::conversation::ConversationReader;
    use crate::{AgentKind, Prices};
    use paddock_proto::conversation::{Item, ToolStatus};
    use std::io::Write;

    /// What the real Gemini CLI 0.61.0 wrote for "please make a file": its context, the
    /// prompt, an answer with a shell call written again with the call's result, the
    /// result as a user message, the closing answer.
    const SAMPLE: &str = include_str!("../../tests/data/gemini-chat-0.61.0.jsonl");

    fn read(text: &str) -> Vec<paddock_proto::conversation::Turn> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("session.jsonl");
        std::fs::write(&path, text).expect("write");
        let mut r = ConversationReader::open(&AgentKind::Gemini, &path).expect("open");
        r.poll().expect("read");
        r.page(&Prices::default(), None, 10).expect("page").turns
    }

    #[test]
    fn a_chat_file_the_real_cli_wrote_reads_as_the_prompt_the_answers_and_the_command() {
        let turns = read(SAMPLE);
        assert_eq!(turns.len(), 1, "{turns:#?}");
        let t = &turns[0];
        assert_eq!(t.prompt.as_deref(), Some("please make a file"));
        let [Item::Text { text: first }, Item::Tool(call), Item::Text { text: last }] =
            t.items.as_slice()
        else {
            panic!("{:#?}", t.items)
        };
        assert_eq!(first, "I will make the file.");
        assert_eq!(last, "The file is made.");
        assert_eq!(call.tool, "run_shell_command");
        assert_eq!(
            call.input["command"],
            "echo approved-in-gemini > made.txt && cat made.txt"
        );
        assert_eq!(call.status, ToolStatus::Succeeded);
        assert!(
            call.output
                .as_deref()
                .is_some_and(|o| o.contains("Output: approved-in-gemini")),
            "{call:#?}"
        );
        // Each answer's tokens counted once, though the first was written twice.
        let tokens: u64 = t.tokens.iter().map(|u| u.input + u.output).sum();
        assert_eq!(tokens, 30, "{:#?}", t.tokens);
        assert_eq!(t.tokens[0].model, "gemini-3.1-pro-preview");
    }

    #[test]
    fn unknown_records_odd_values_and_a_half_written_line_lose_nothing_else() {
        let mut text = String::from("not json\n{\"id\": 5}\n{\"$set\": {\"messages\": \"no\"}}\n");
        text += SAMPLE;
        text += "{\"id\":\"x1\",\"type\":\"mystery\",\"content\":[]}\n";
        text += "{\"id\":\"u2\",\"type\":\"user\",\"content\":[{\"text\":\"/help\"}]}\n";
        text += "{\"id\":\"u3\",\"type\":\"user\",\"content\":\"and now?\",\"displayContent\":null,\"extra\":{\"a\":1}}\n";
        text += "{\"id\":\"g3\",\"type\":\"gemini\",\"content\":\"Cancelled it.\",\"thoughts\":[{\"subject\":\"Plan\",\"description\":\"ask first\"}],\"toolCalls\":[{\"id\":\"c9\",\"name\":\"run_shell_command\",\"args\":{\"command\":\"rm x\"},\"status\":\"cancelled\"}]}\n";
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("session.jsonl");
        std::fs::write(&path, &text).expect("write");
        let mut r = ConversationReader::open(&AgentKind::Gemini, &path).expect("open");
        r.poll().expect("read");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"{\"id\":\"g4\",\"type\":\"gemini\",\"content\":\"half")
            .expect("partial");
        r.poll().expect("read");
        let turns = r.page(&Prices::default(), None, 10).expect("page").turns;
        let prompts: Vec<_> = turns.iter().map(|t| t.prompt.as_deref()).collect();
        assert_eq!(prompts, [Some("please make a file"), Some("and now?")]);
        let items = &turns[1].items;
        assert!(matches!(&items[0], Item::Thinking { text } if text.contains("ask first")));
        assert!(matches!(&items[1], Item::Text { text } if text == "Cancelled it."));
        let Item::Tool(call) = &items[2] else {
            panic!("{items:#?}")
        };
        assert_eq!(
            (call.status, call.output.as_deref()),
            (ToolStatus::Failed, Some("cancelled"))
        );
        assert_eq!(
            items.len(),
            3,
            "the half-written line is not read yet: {items:#?}"
        );
    }
}
