//! Aider: its chat history file (`.aider.chat.history.md` in the repository it works on),
//! read line by line like a transcript, and its screen (the `(Y)es/(N)o` confirmations and
//! the `>` input prompt).
//!
//! The history file is markdown: `# aider chat started at <time>` opens a run, `#### <text>`
//! is a user prompt, lines quoted with `> ` are aider's own output (among them
//! `> Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.05 session.`,
//! `> Applied edit to src/app.py`, `> Commit 1a2b3c4 <message>`), other lines are the
//! model's answer.

use crate::prices::Prices;
use crate::record::SessionRecord;
use crate::screen::{trimmed_rows, PromptKind, ScreenPrompt};
use crate::{Adapter, AgentKind, ScreenState};
use paddock_proto::insight::{ActionStatus, SessionInsight};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The history file's name, in the repository aider runs in.
pub const CHAT_HISTORY_FILE: &str = ".aider.chat.history.md";

/// How long without output before aider counts as waiting rather than working.
const BUSY_WINDOW: Duration = Duration::from_secs(2);

/// Aider's adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aider;

impl Adapter for Aider {
    fn kind(&self) -> AgentKind {
        AgentKind::Aider
    }

    fn classify_screen(&self, rows: &[&str], quiet_for: Option<Duration>) -> ScreenState {
        classify_screen(rows, quiet_for)
    }
}

/// The chat history of aider running in `cwd`.
pub fn chat_history(cwd: &Path) -> PathBuf {
    cwd.join(CHAT_HISTORY_FILE)
}

/// What aider's screen shows: a confirmation (`... (Y)es/(N)o [Yes]:`), its input prompt
/// (`> `, `architect> `, ...), working (output within the last 2 s), else idle.
pub fn classify_screen(rows: &[&str], quiet_for: Option<Duration>) -> ScreenState {
    let rows = trimmed_rows(rows);
    let Some(last) = rows.iter().rev().find(|r| !r.trim().is_empty()) else {
        return ScreenState::Idle;
    };
    let t = last.trim();
    if t.contains("(Y)es/(N)o") {
        let question = t.split(" (Y)es/(N)o").next().unwrap_or(t).trim().to_owned();
        let options: Vec<String> = t
            .split('/')
            .filter_map(|o| {
                let o = o.trim();
                let start = o.find('(')?;
                let o = &o[start..];
                let o = o.split(" [").next().unwrap_or(o);
                Some(
                    o.replace(['(', ')'], "")
                        .trim_end_matches(':')
                        .trim()
                        .to_owned(),
                )
            })
            .collect();
        let tool = if question.starts_with("Run shell command") {
            Some("shell".to_owned())
        } else if question.starts_with("Allow edits") || question.starts_with("Create new file") {
            Some("edit".to_owned())
        } else {
            None
        };
        return ScreenState::Prompt(ScreenPrompt {
            kind: if tool.is_some() {
                PromptKind::Permission
            } else {
                PromptKind::Question
            },
            tool,
            title: None,
            detail: None,
            description: None,
            question,
            options,
            selected: None,
        });
    }
    if quiet_for.is_some_and(|q| q < BUSY_WINDOW) {
        return ScreenState::Working { activity: None };
    }
    let prompt = t == ">"
        || t.ends_with("> ")
        || last.ends_with("> ")
        || (t.ends_with('>') && t.split_whitespace().count() == 1);
    if prompt {
        return ScreenState::WaitingInput;
    }
    ScreenState::Idle
}

/// Everything read from an aider chat history so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AiderHistory {
    #[serde(flatten)]
    rec: SessionRecord,
    runs: u64,
    tokens_in: u64,
    tokens_out: u64,
    session_cost: f64,
    cost_before_run: f64,
}

/// "2.3k" → 2300, "150" → 150, "1.2M" → 1,200,000.
pub(crate) fn count(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches(',');
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1_000.0),
        'm' | 'M' => (&s[..s.len() - 1], 1_000_000.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.replace(',', "").parse().ok()?;
    Some((v * mult).round() as u64)
}

impl AiderHistory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn note_skipped(&mut self, n: u64) {
        self.rec.note_skipped(n);
    }

    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        self.rec.take_new_texts()
    }

    /// Reads one line of the history file.
    pub fn apply_line(&mut self, line: &[u8]) {
        self.apply_md_line(line);
        crate::live::bound_texts(&mut self.rec.new_texts);
    }

    fn apply_md_line(&mut self, line: &[u8]) {
        let Ok(line) = std::str::from_utf8(line) else {
            self.rec.skipped_lines += 1;
            return;
        };
        let line = line.trim_end();
        if line.starts_with("# aider chat started at") {
            self.runs += 1;
            // Each run reports its own session cost from 0.
            self.cost_before_run += self.session_cost_of_run();
            self.session_cost = 0.0;
            return;
        }
        if let Some(p) = line.strip_prefix("#### ") {
            let p = p.trim();
            if p.is_empty() {
                return;
            }
            self.rec.prompts += 1;
            if self.rec.first_prompt.is_none() {
                self.rec.first_prompt = Some(p.to_owned());
            }
            self.rec.current_task = Some(crate::claude::tools::one_line(p, 2000));
            self.rec.new_texts.push(("user".into(), None, p.to_owned()));
            return;
        }
        let Some(note) = line.strip_prefix("> ") else {
            if !line.trim().is_empty() {
                self.rec
                    .new_texts
                    .push(("assistant".into(), None, line.to_owned()));
            }
            return;
        };
        let note = note.trim();
        if let Some(rest) = note.strip_prefix("Tokens: ") {
            // "2.3k sent, 150 received. Cost: $0.01 message, $0.05 session."
            if let Some((sent, after)) = rest.split_once(" sent") {
                self.tokens_in += count(sent).unwrap_or(0);
                if let Some(received) = after
                    .trim_start_matches([',', ' '])
                    .split(" received")
                    .next()
                    .and_then(|r| r.rsplit(' ').next())
                {
                    self.tokens_out += count(received).unwrap_or(0);
                }
            }
            if let Some(i) = rest.find("message, $") {
                let s = &rest[i + "message, $".len()..];
                if let Some(v) = s.split(' ').next().and_then(|v| v.parse::<f64>().ok()) {
                    self.session_cost = v;
                }
            }
        } else if let Some(path) = note.strip_prefix("Applied edit to ") {
            self.file_changed(path.trim(), false);
        } else if let Some(rest) = note.strip_prefix("Commit ") {
            self.action("git commit", rest, ActionStatus::Succeeded);
        } else if let Some(rest) = note.strip_prefix("Running ") {
            self.action("shell", rest, ActionStatus::Succeeded);
        } else if let Some(m) = note
            .strip_prefix("Main model: ")
            .or_else(|| note.strip_prefix("Model: "))
        {
            self.rec.model = m.split_whitespace().next().map(str::to_owned);
        }
    }

    fn session_cost_of_run(&self) -> f64 {
        self.session_cost
    }

    fn action(&mut self, tool: &str, summary: &str, status: ActionStatus) {
        let summary = crate::claude::tools::one_line(summary, 200);
        self.rec.start_action(None, tool.to_owned(), summary, None);
        if let Some(a) = self.rec.actions.back_mut() {
            a.status = status;
        }
    }

    fn file_changed(&mut self, path: &str, created: bool) {
        self.action("edit", path, ActionStatus::Succeeded);
        self.rec.change_file(path.to_owned(), created, (0, 0), None);
    }

    pub fn insight(&self, _prices: &Prices) -> SessionInsight {
        let mut i = self.rec.insight();
        i.tokens.input = self.tokens_in;
        i.tokens.output = self.tokens_out;
        // Aider prints the cost itself (it knows its model's price): reported, not estimated.
        let total = self.cost_before_run + self.session_cost;
        i.cost.reported_usd = (total > 0.0).then_some(total);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_gives_prompts_edits_tokens_and_cost_across_runs() {
        let text = "\
# aider chat started at 2026-11-20 10:00:00

> Main model: claude-sonnet-4-5 with diff edit format
#### add a health endpoint

I'll add it to app.py.

> Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.05 session.
> Applied edit to app.py
> Commit 1a2b3c4 feat: add health endpoint

# aider chat started at 2026-11-21 09:00:00

#### now test it
> Tokens: 1,000 sent, 50 received. Cost: $0.004 message, $0.004 session.
> Applied edit to app.py
> Applied edit to tests/test_app.py
";
        let mut h = AiderHistory::new();
        for l in text.lines() {
            h.apply_line(l.as_bytes());
        }
        let i = h.insight(&Prices::default());
        assert_eq!(i.current_task.as_deref(), Some("now test it"));
        assert_eq!(i.first_prompt.as_deref(), Some("add a health endpoint"));
        assert_eq!(i.prompts, 2);
        assert_eq!(i.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!((i.tokens.input, i.tokens.output), (3300, 200));
        assert!(
            (i.cost.reported_usd.unwrap_or(0.0) - 0.054).abs() < 1e-9,
            "{:?}",
            i.cost
        );
        let files: Vec<(&str, u32)> = i
            .files_modified
            .iter()
            .map(|f| (f.path.as_str(), f.changes))
            .collect();
        assert_eq!(files, vec![("app.py", 2), ("tests/test_app.py", 1)]);
        assert_eq!(i.recent_actions[1].tool, "git commit");
    }

    #[test]
    fn confirmations_and_the_input_prompt_are_recognised() {
        let quiet = Some(Duration::from_secs(5));
        let s = classify_screen(
            &["Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]:"],
            quiet,
        );
        let ScreenState::Prompt(p) = s else {
            panic!("no prompt: {s:?}")
        };
        assert_eq!(p.kind, PromptKind::Permission);
        assert_eq!(p.tool.as_deref(), Some("shell"));
        assert_eq!(p.question, "Run shell command?");
        assert_eq!(p.options, vec!["Yes", "No", "Don't ask again"]);
        let s = classify_screen(&["Add file to the chat? (Y)es/(N)o [Yes]:"], quiet);
        assert!(
            matches!(s, ScreenState::Prompt(ref p) if p.kind == PromptKind::Question),
            "{s:?}"
        );
        assert_eq!(
            classify_screen(&["app.py", "> "], quiet),
            ScreenState::WaitingInput
        );
        assert_eq!(
            classify_screen(&["architect> "], quiet),
            ScreenState::WaitingInput
        );
        assert_eq!(
            classify_screen(
                &["Waiting for claude-sonnet-4-5"],
                Some(Duration::from_millis(100))
            ),
            ScreenState::Working { activity: None }
        );
    }
}
