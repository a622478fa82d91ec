//! The tools that type into a session: `send_message` (a message submitted to its agent,
//! with whether the agent took it) and `send_keys` (raw text and named keys, at most
//! `MAX_KEYS` bytes).

use super::{summary, Done, PaddockMcp, SessionSummary, ToolResult, MAX_KEYS};
use paddock_proto::access::Permission;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of `send_message`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct MessageArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// What to type into the agent's prompt; submitted with Enter.
    pub text: String,
    /// How long to wait for a sign that the agent took it, in seconds (default 5, at most 60).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
}

/// `send_message`: whether the agent took it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MessageResult {
    /// submitted (it started on it), queued (it was busy and reads it when its turn
    /// allows), refused (no sign it took it).
    pub outcome: String,
    pub detail: String,
    pub session: SessionSummary,
}

/// Arguments of `send_keys`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeysArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// Text typed as is (no Enter added).
    #[serde(default)]
    pub text: Option<String>,
    /// Named keys typed after the text, in order: enter, escape, tab, backspace, up,
    /// down, left, right, ctrl-c, ctrl-d, ctrl-u.
    #[serde(default)]
    pub keys: Vec<String>,
}

fn key_bytes(name: &str) -> Result<&'static [u8], String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "enter" | "return" => b"\r",
        "escape" | "esc" => b"\x1b",
        "tab" => b"\t",
        "backspace" => b"\x7f",
        "up" => b"\x1b[A",
        "down" => b"\x1b[B",
        "right" => b"\x1b[C",
        "left" => b"\x1b[D",
        "ctrl-c" => b"\x03",
        "ctrl-d" => b"\x04",
        "ctrl-u" => b"\x15",
        other => {
            return Err(format!(
                "`{other}` is not a key name; use enter, escape, tab, backspace, up, down, left, right, ctrl-c, ctrl-d or ctrl-u"
            ))
        }
    })
}

#[tool_router(router = input_router, vis = "pub(super)")]
impl PaddockMcp {
    #[tool(
        description = "Type a message into a session's agent and submit it. The result says whether the agent took it: submitted, queued (busy; it reads it when its turn allows), refused (exited, or a permission prompt is up: nothing typed) or unknown (no sign within the wait; the detail says what was seen)."
    )]
    async fn send_message(&self, args: Parameters<MessageArgs>) -> ToolResult<MessageResult> {
        self.caller.need(Permission::Input)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let timeout_ms = args
            .timeout_secs
            .map(|s| (s * 1000.0).round().max(0.0) as u64);
        let how = crate::delivery::How::new(timeout_ms, false).map_err(|e| e.to_string())?;
        let result = crate::delivery::message(
            &self.handle,
            view.id.as_str(),
            &args.text,
            &self.caller.actor,
            how,
        )
        .await
        .map(|r| MessageResult {
            outcome: serde_json::to_value(r.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            detail: r.detail,
            session: summary(&r.session, &self.caller),
        })
        .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Type raw text and named keys (enter, escape, tab, arrows, ctrl-c, ...) into a session's terminal."
    )]
    async fn send_keys(&self, args: Parameters<KeysArgs>) -> ToolResult<Done> {
        self.caller.need(Permission::Input)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let mut bytes = args.text.unwrap_or_default().into_bytes();
        for k in &args.keys {
            bytes.extend_from_slice(key_bytes(k)?);
        }
        if bytes.is_empty() {
            return Err("nothing to type: give `text`, `keys` or both".into());
        }
        if bytes.len() > MAX_KEYS {
            return Err(format!(
                "{} bytes is more than the {MAX_KEYS} send_keys types at once; use send_message for long text",
                bytes.len()
            ));
        }
        let result = self
            .handle
            .send_input(&view.id, &bytes)
            .await
            .map(|()| Done {
                detail: format!("typed {} bytes into {}", bytes.len(), view.name),
                session: self.fresh(&view),
            })
            .map_err(|e| e.to_string());
        result.map(Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_keys_become_the_bytes_a_terminal_sends_and_unknown_names_say_which_exist() {
        assert_eq!(key_bytes("Enter"), Ok(&b"\r"[..]));
        assert_eq!(key_bytes("esc"), Ok(&b"\x1b"[..]));
        assert_eq!(key_bytes("up"), Ok(&b"\x1b[A"[..]));
        assert_eq!(key_bytes("ctrl-c"), Ok(&b"\x03"[..]));
        let e = key_bytes("f13").expect_err("no such key");
        assert!(
            e.contains("`f13` is not a key name") && e.contains("ctrl-u"),
            "{e}"
        );
    }
}
