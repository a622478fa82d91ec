//! Scripted conversations: the replies a test wants the "model" to give, in order, each
//! optionally tied to what the request must look like.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Token counts the fake reports for a reply, so tests can assert totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Anthropic only (OpenAI has no such figure).
    pub cache_creation_input_tokens: u64,
    /// Anthropic `cache_read_input_tokens`; OpenAI `input_tokens_details.cached_tokens`.
    pub cache_read_input_tokens: u64,
}

impl Usage {
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            ..Self::default()
        }
    }

    pub fn with_cache(mut self, creation: u64, read: u64) -> Self {
        self.cache_creation_input_tokens = creation;
        self.cache_read_input_tokens = read;
        self
    }
}

/// One content block of a reply. Both protocols render every kind: thinking becomes an
/// OpenAI `reasoning` item, a tool use a `function_call` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text {
        text: String,
    },
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    /// A tool call: `Bash {command, description}`, `Write {file_path, content}`,
    /// `Edit {file_path, old_string, new_string}`, `TodoWrite {todos}` for Claude Code;
    /// `exec_command {cmd}` for Codex.
    ToolUse {
        /// Generated (`toolu_fake_N` / `call_fake_N`) when absent.
        #[serde(default)]
        id: Option<String>,
        name: String,
        input: Value,
    },
}

/// Which requests a reply may answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum When {
    /// A conversation turn: a request that offers the model tools (side requests such as
    /// title generation offer none and get the fallback instead).
    #[default]
    Turn,
    /// A turn whose last message carries a tool result (Anthropic `tool_result`, OpenAI
    /// `function_call_output`).
    ToolResult,
    /// A turn whose newest typed prompt ([`crate::Recorded::prompt`]) contains this text (and
    /// that does not carry tool results).
    UserSays(String),
    /// Any request to the model endpoint, side requests included.
    Any,
}

/// What the fake sends back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// A model message, streamed when the request asked for `stream: true`.
    Message {
        blocks: Vec<Block>,
        #[serde(default)]
        usage: Usage,
        /// Anthropic stop reason; default `tool_use` when a block is a tool use, else
        /// `end_turn`.
        #[serde(default)]
        stop_reason: Option<String>,
    },
    /// An HTTP error in the protocol's error shape.
    Error {
        status: u16,
        /// e.g. `overloaded_error`, `api_error`, `authentication_error`, `rate_limit_error`.
        error_type: String,
        message: String,
        /// Sent as `x-should-retry` when set (the Anthropic SDK obeys it).
        #[serde(default)]
        should_retry: Option<bool>,
    },
}

/// One scripted reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub when: When,
    /// How many requests it answers; 0 means every matching request from now on.
    #[serde(default = "one")]
    pub times: u32,
    /// Wait until the test opens this gate ([`crate::FakeApi::open_gate`]) before answering.
    #[serde(default)]
    pub gate: Option<String>,
    /// Pause between streamed events, in milliseconds.
    #[serde(default)]
    pub pace_ms: u64,
    pub answer: Answer,
}

fn one() -> u32 {
    1
}

impl Reply {
    fn message(blocks: Vec<Block>) -> Self {
        Self {
            when: When::Turn,
            times: 1,
            gate: None,
            pace_ms: 0,
            answer: Answer::Message {
                blocks,
                usage: Usage::new(10, 5),
                stop_reason: None,
            },
        }
    }

    /// A text answer.
    pub fn text(text: impl Into<String>) -> Self {
        Self::message(vec![Block::Text { text: text.into() }])
    }

    /// A tool call (and no text). On the Responses API a name `NAMESPACE::NAME` calls a
    /// namespaced tool (Codex puts an MCP server's tools in `mcp__SERVER`).
    pub fn tool_use(name: impl Into<String>, input: Value) -> Self {
        Self::message(Vec::new()).with_tool_use(name, input)
    }

    /// An HTTP error: e.g. `Reply::error(529, "overloaded_error", "Overloaded")`.
    pub fn error(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            answer: Answer::Error {
                status,
                error_type: error_type.into(),
                message: message.into(),
                should_retry: None,
            },
            ..Self::message(Vec::new())
        }
    }

    fn push(mut self, block: Block) -> Self {
        if let Answer::Message { blocks, .. } = &mut self.answer {
            blocks.push(block);
        }
        self
    }

    pub fn with_text(self, text: impl Into<String>) -> Self {
        self.push(Block::Text { text: text.into() })
    }

    /// A thinking block first (before whatever the reply already has).
    pub fn with_thinking(mut self, thinking: impl Into<String>) -> Self {
        if let Answer::Message { blocks, .. } = &mut self.answer {
            blocks.insert(
                0,
                Block::Thinking {
                    thinking: thinking.into(),
                    signature: None,
                },
            );
        }
        self
    }

    pub fn with_tool_use(self, name: impl Into<String>, input: Value) -> Self {
        self.push(Block::ToolUse {
            id: None,
            name: name.into(),
            input,
        })
    }

    pub fn usage(mut self, u: Usage) -> Self {
        if let Answer::Message { usage, .. } = &mut self.answer {
            *usage = u;
        }
        self
    }

    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        if let Answer::Message { stop_reason, .. } = &mut self.answer {
            *stop_reason = Some(reason.into());
        }
        self
    }

    /// For an error: tell the client whether to retry (`x-should-retry`).
    pub fn should_retry(mut self, retry: bool) -> Self {
        if let Answer::Error { should_retry, .. } = &mut self.answer {
            *should_retry = Some(retry);
        }
        self
    }

    pub fn when(mut self, when: When) -> Self {
        self.when = when;
        self
    }

    /// Answers `n` requests (0: all from now on).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    pub fn gate(mut self, name: impl Into<String>) -> Self {
        self.gate = Some(name.into());
        self
    }

    pub fn pace_ms(mut self, ms: u64) -> Self {
        self.pace_ms = ms;
        self
    }
}

/// A conversation: replies tried in order; each request gets the first unused reply whose
/// `when` matches it, else the fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    #[serde(default)]
    pub replies: Vec<Reply>,
    /// For requests no reply matches (side requests, or a script that ran out).
    #[serde(default = "fallback")]
    pub fallback: Reply,
}

fn fallback() -> Reply {
    Reply::text("OK.").usage(Usage::new(1, 1)).times(0)
}

impl Default for Script {
    fn default() -> Self {
        Self {
            replies: Vec::new(),
            fallback: fallback(),
        }
    }
}

impl Script {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn then(mut self, reply: Reply) -> Self {
        self.replies.push(reply);
        self
    }

    pub fn fallback(mut self, reply: Reply) -> Self {
        self.fallback = reply;
        self
    }
}
