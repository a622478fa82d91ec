//! What a terminal screen shows, agent-neutral: the result of [`crate::Adapter::classify_screen`],
//! and small helpers the agents' classifiers share.

use serde::{Deserialize, Serialize};

/// What the screen of a session shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum ScreenState {
    /// The agent shows a prompt that needs the user's choice (a permission prompt, or a
    /// question with options).
    Prompt(ScreenPrompt),
    /// The agent is working; `activity` is its own status line when it shows one
    /// ("Crunching… (3s · esc to interrupt)").
    Working { activity: Option<String> },
    /// The agent waits at its input prompt for the user's next message.
    WaitingInput,
    /// The agent's last turn failed: its error is the last thing it printed and the input
    /// box is still empty (it clears once the user types or a new turn starts). `message`
    /// is the error as shown ("API Error: 529 Overloaded. ...").
    Errored { message: String },
    /// No output for a while and no prompt recognised (generic programs).
    Idle,
    /// Nothing recognised.
    Unknown,
}

/// Whether a prompt on screen asks for a permission or asks a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    Permission,
    Question,
}

/// A prompt found on the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenPrompt {
    pub kind: PromptKind,
    /// The tool asking, when the screen names it (`Bash`, `Edit`, `Write`, `WebFetch`, an MCP
    /// tool's name, ...).
    pub tool: Option<String>,
    /// The prompt's heading as shown ("Bash command", "Edit file").
    pub title: Option<String>,
    /// What the tool would do: the command, the file, the URL.
    pub detail: Option<String>,
    /// The agent's own description of the call ("Create made.txt").
    pub description: Option<String>,
    /// The question ("Do you want to proceed?").
    pub question: String,
    /// The choices offered, in order, without their numbers.
    pub options: Vec<String>,
    /// The index in `options` of the highlighted choice.
    pub selected: Option<usize>,
}

/// The screen's rows with trailing blanks removed and trailing empty rows dropped.
pub(crate) fn trimmed_rows<'a>(rows: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = rows.iter().map(|r| r.trim_end()).collect();
    while out.last().is_some_and(|r| r.is_empty()) {
        out.pop();
    }
    out
}

/// A row made only of one box-drawing character repeated (at least 8 times), perhaps
/// between a box's corners (`╭───╮`): a rule.
pub(crate) fn is_rule(row: &str, ch: char) -> bool {
    let t = row.trim();
    let t = t.strip_prefix(['╭', '╰', '┌', '└', '├']).unwrap_or(t);
    let t = t.strip_suffix(['╮', '╯', '┐', '┘', '┤']).unwrap_or(t);
    t.chars().count() >= 8 && t.chars().all(|c| c == ch)
}

/// The text of a block in an agent's history: its first row's text (`first`, without its
/// glyph) and the rows of `rest` that continue it (indented by two spaces), joined by
/// spaces.
pub(crate) fn block_text(first: &str, rest: &[&str]) -> String {
    let continued = rest
        .iter()
        .take_while(|r| r.starts_with("  ") && !r.starts_with("   ") && !r.trim().is_empty())
        .map(|r| r.trim());
    std::iter::once(first.trim())
        .chain(continued)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A numbered choice, "❯ 1. Yes" or "  2. No": `(selected, number, text)`.
pub(crate) fn numbered_option(row: &str) -> Option<(bool, u32, &str)> {
    let t = row.trim_start();
    let (selected, t) = match t.strip_prefix('❯').or_else(|| t.strip_prefix('>')) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let number: u32 = t[..digits].parse().ok()?;
    let rest = t[digits..].strip_prefix('.')?;
    if !rest.starts_with(' ') {
        return None;
    }
    Some((selected, number, rest.trim()))
}
