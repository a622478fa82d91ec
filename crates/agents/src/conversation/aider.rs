//! Aider's `.aider.chat.history.md` as a conversation: `#### ` lines are the user's prompts
//! (each starts a turn), `> ` lines are Aider's own notes (applied edits, commits, token and
//! cost lines: notices; `Tokens: … sent, … received` also counts the turn's tokens), other
//! lines are the model's answer (markdown, kept as written).

use super::Conversation;
use paddock_proto::conversation::Item;
use paddock_proto::insight::ModelUsage;

/// The reading state of one chat history.
#[derive(Debug, Default)]
pub struct AiderConversation {
    /// Inside a fenced code block of the answer (whose lines are kept verbatim).
    in_fence: bool,
}

impl AiderConversation {
    pub fn apply_line(&mut self, conv: &mut Conversation, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end();
        if line.starts_with("# aider chat started at") {
            self.in_fence = false;
            return;
        }
        if !self.in_fence {
            if let Some(p) = line.strip_prefix("#### ") {
                if !p.trim().is_empty() {
                    conv.start_turn(Some(super::keep(p.trim())), None);
                }
                return;
            }
            if let Some(note) = line.strip_prefix("> ").or((line == ">").then_some("")) {
                let note = note.trim();
                if note.is_empty() {
                    return;
                }
                if let Some(rest) = note.strip_prefix("Tokens: ") {
                    self.tokens(conv, rest);
                }
                conv.push(
                    Item::Notice {
                        text: note.to_owned(),
                    },
                    None,
                );
                return;
            }
        }
        if line.trim_start().starts_with("```") {
            self.in_fence = !self.in_fence;
        }
        if conv.is_empty() && line.trim().is_empty() {
            return;
        }
        // Lines of one answer join into one text (a blank line between paragraphs stays).
        conv.push_line(line);
    }

    fn tokens(&self, conv: &mut Conversation, rest: &str) {
        // "2.3k sent, 150 received. Cost: $0.01 message, $0.05 session."
        let Some((sent, after)) = rest.split_once(" sent") else {
            return;
        };
        let received = after
            .trim_start_matches([',', ' '])
            .split(" received")
            .next()
            .and_then(|r| r.rsplit(' ').next());
        conv.add_usage(
            ModelUsage {
                model: "aider".into(),
                input: crate::aider::count(sent).unwrap_or(0),
                output: received.and_then(crate::aider::count).unwrap_or(0),
                cache_creation: 0,
                cache_read: 0,
            },
            None,
        );
    }
}
