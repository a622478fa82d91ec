//! The tool calls a conversation reader has shown, by id (Claude Code, Codex, Gemini CLI):
//! a call goes into the open turn when the agent makes it; its result, read later, finds it
//! there and closes it.

use super::Conversation;
use paddock_proto::conversation::{Item, ToolCall, ToolStatus};
use std::collections::HashMap;

/// Each shown call's turn and start, by the agent's call id.
#[derive(Debug, Default)]
pub(crate) struct ShownCalls(HashMap<String, (u64, Option<u64>)>);

impl ShownCalls {
    /// Shows `call` in the open turn at `ts`, and remembers where it is.
    pub fn start(&mut self, conv: &mut Conversation, call: ToolCall, ts: Option<u64>) {
        let id = call.id.clone();
        conv.push(Item::Tool(Box::new(call)), ts);
        if let Some(turn) = conv.open_index() {
            self.0.insert(id, (turn, ts));
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    /// The turn of the call `id`, if it was seen.
    pub fn turn_of(&self, id: &str) -> Option<u64> {
        self.0.get(id).map(|c| c.0)
    }

    /// Forgets the calls of turns keyed before `key`.
    pub fn forget_before(&mut self, key: u64) {
        self.0.retain(|_, c| c.0 >= key);
    }

    /// The call `id` closed at `ts`, failed or succeeded, lasting `tool_ms` when the tool
    /// said, else since it started; `None` when it is not shown (not seen, or its turn
    /// forgotten). The caller adds its output.
    pub fn finish<'c>(
        &self,
        conv: &'c mut Conversation,
        id: &str,
        failed: bool,
        tool_ms: Option<u64>,
        ts: Option<u64>,
    ) -> Option<&'c mut ToolCall> {
        let &(turn, started) = self.0.get(id)?;
        let call = conv.tool_mut(turn, id, ts)?;
        call.status = if failed {
            ToolStatus::Failed
        } else {
            ToolStatus::Succeeded
        };
        call.duration_ms = tool_ms.or_else(|| Some(ts?.saturating_sub(started?)));
        Some(call)
    }
}
