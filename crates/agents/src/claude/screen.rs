//! Reading Claude Code's screen: a permission prompt (and for which tool and command), a
//! turn in progress (the spinner line with "esc to interrupt"), a turn that failed (its "API
//! Error" above the empty input box), or the input prompt.
//!
//! The layout of 2.1.328 (see `tests/data/claude-permission-screen-2.1.328.txt`):
//!
//! ```text
//! ──────────────────────────────          a full-width rule opens the prompt
//!  Bash command                           its title names the tool
//!  Create made.txt                        the model's description of the call
//! ╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌
//!  echo hi > made.txt                     the command (or diff, or URL)
//! ╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌
//!  Do you want to proceed?                the question
//!  ❯ 1. Yes                               numbered options, the cursor on one
//!    2. No
//!  Esc to cancel · Tab to amend
//! ```
//!
//! Older versions draw the same inside a rounded box (`╭─╮ │ … │ ╰─╯`); the box's side
//! borders are removed before reading.

use crate::screen::{
    block_text, is_rule, numbered_option, trimmed_rows, PromptKind, ScreenPrompt, ScreenState,
};

/// How many rows may follow the last option of a prompt (footer hints, the input box of
/// some versions); a numbered list higher up is output, not a prompt.
const MAX_ROWS_AFTER_OPTIONS: usize = 6;
/// The spinner and the input box are looked for in the bottom rows only.
const BOTTOM_ROWS: usize = 12;

/// What Claude Code's screen shows.
pub fn classify(rows: &[&str]) -> ScreenState {
    let rows: Vec<&str> = trimmed_rows(rows).into_iter().map(unbox).collect();
    if let Some(prompt) = find_prompt(&rows) {
        return ScreenState::Prompt(prompt);
    }
    let bottom = &rows[rows.len().saturating_sub(BOTTOM_ROWS)..];
    if let Some(activity) = bottom.iter().rev().find_map(|r| working_line(r)) {
        return ScreenState::Working {
            activity: Some(activity.to_owned()),
        };
    }
    if let Some(message) = failed_turn(&rows) {
        return ScreenState::Errored { message };
    }
    if at_input_prompt(bottom) {
        return ScreenState::WaitingInput;
    }
    ScreenState::Unknown
}

/// What the input box shows after a failed turn until the user types.
const RESEND_HINT: &str = "Resend your message to try again";

/// A turn that failed (2.1.328, `tests/data/claude-api-error-screen-2.1.328.txt`): the last
/// message above the input box is "● API Error: …" (wrapped onto indented rows), and the box
/// is empty or shows its hint to resend. Typing replaces the hint; a new turn brings the
/// spinner back.
fn failed_turn(rows: &[&str]) -> Option<String> {
    let input = (1..rows.len()).rev().find(|&i| {
        is_rule(rows[i - 1], '─')
            && rows[i].trim_start().starts_with('❯')
            && numbered_option(rows[i]).is_none()
    })?;
    let typed = rows[input].trim_start().trim_start_matches('❯').trim();
    if !typed.is_empty() && typed != RESEND_HINT {
        return None;
    }
    // The last message: the nearest row above the box that starts a block (`●`) or a
    // prompt (`❯`); its continuation rows are indented.
    let start = (0..input - 1).rev().find(|&i| {
        let t = rows[i];
        t.starts_with('●') || t.starts_with('❯')
    })?;
    let text = rows[start].strip_prefix('●')?.trim();
    if !(text.starts_with("API Error") || typed == RESEND_HINT) {
        return None;
    }
    Some(block_text(text, &rows[start + 1..input - 1]))
}

/// A row without the side borders of a box (`│ text │`).
fn unbox(row: &str) -> &str {
    let t = row.trim_start();
    match t.strip_prefix('│') {
        Some(inner) => inner.strip_suffix('│').unwrap_or(inner).trim_end(),
        None => row,
    }
}

/// The spinner's line while a turn runs: "✻ Crunching… (3s · esc to interrupt)".
fn working_line(row: &str) -> Option<&str> {
    let t = row.trim();
    if t.to_lowercase().contains("esc to interrupt") {
        return Some(t);
    }
    let mut chars = t.chars();
    let glyph = chars.next()?;
    let spinner = matches!(glyph, '·' | '✢' | '✳' | '✶' | '✻' | '✽' | '*' | '∗');
    let rest = chars.as_str();
    if spinner && rest.starts_with(' ') {
        // "Crunching…": a word and an ellipsis. The line left after a turn ("✻ Crunched for
        // 3s") has none.
        let word = rest.split_whitespace().next().unwrap_or("");
        if word.ends_with('…') && word.chars().next().is_some_and(char::is_alphabetic) {
            return Some(t);
        }
    }
    None
}

/// The input box: a row starting with `❯` (or `>`) right below a rule.
fn at_input_prompt(bottom: &[&str]) -> bool {
    bottom.windows(2).any(|w| {
        let t = w[1].trim_start();
        is_rule(w[0], '─')
            && (t.starts_with('❯') || t.starts_with('>'))
            && numbered_option(w[1]).is_none()
    })
}

fn find_prompt(rows: &[&str]) -> Option<ScreenPrompt> {
    // The last row that is option 1 of a list of at least two, near the bottom.
    let (first, options, selected, last) = (0..rows.len()).rev().find_map(|i| {
        let (sel, 1, text) = numbered_option(rows[i])? else {
            return None;
        };
        let mut options = vec![text.to_owned()];
        let mut selected = sel.then_some(0);
        let mut last = i;
        for (j, row) in rows.iter().enumerate().skip(i + 1) {
            match numbered_option(row) {
                Some((sel, n, text)) if n as usize == options.len() + 1 => {
                    if sel {
                        selected = Some(options.len());
                    }
                    options.push(text.to_owned());
                    last = j;
                }
                Some(_) => break,
                // A long option wraps onto an indented row.
                None if row.starts_with("    ") && !row.trim().is_empty() && j == last + 1 => {
                    if let Some(o) = options.last_mut() {
                        o.push(' ');
                        o.push_str(row.trim());
                    }
                    last = j;
                }
                None => break,
            }
        }
        (options.len() >= 2).then_some((i, options, selected, last))
    })?;
    let after = rows[last + 1..]
        .iter()
        .filter(|r| !r.trim().is_empty())
        .count();
    if after > MAX_ROWS_AFTER_OPTIONS {
        return None;
    }
    // The question: the nearest non-empty row above the options.
    let q_idx = (0..first).rev().find(|&i| !rows[i].trim().is_empty());
    let question = q_idx.map(|i| rows[i].trim().to_owned()).unwrap_or_default();
    let q_idx = q_idx.unwrap_or(first);
    // The heading: the row after the nearest full-width rule above the question.
    let rule = (0..q_idx).rev().find(|&i| is_rule(rows[i], '─'));
    let mut title = None;
    let mut description = None;
    let mut detail_rows: Vec<&str> = Vec::new();
    if let Some(rule) = rule {
        let body: Vec<&str> = rows[rule + 1..q_idx].to_vec();
        let mut it = body.iter().skip_while(|r| r.trim().is_empty());
        title = it.next().map(|r| r.trim().to_owned());
        let rest: Vec<&str> = it.copied().collect();
        let dashed: Vec<usize> = (0..rest.len()).filter(|&i| is_rule(rest[i], '╌')).collect();
        let (head, detail): (&[&str], &[&str]) = match dashed.as_slice() {
            [a, b, ..] => (&rest[..*a], &rest[a + 1..*b]),
            [a] => (&rest[..*a], &rest[a + 1..]),
            [] => (&rest[..], &[]),
        };
        description = head
            .iter()
            .rev()
            .map(|r| r.trim())
            .find(|r| !r.is_empty() && !r.starts_with("Tip:"))
            .map(str::to_owned);
        detail_rows = detail.to_vec();
    }
    let mut detail = dedent(&detail_rows);
    let tool = title.as_deref().and_then(tool_of_title);
    let target = question_target(&question);
    if detail.is_none() {
        detail = target.clone();
    }
    let q = question.to_lowercase();
    let kind = if tool.is_some()
        || q.starts_with("do you want to")
        || q.starts_with("would you like to proceed")
        || q.starts_with("allow ")
    {
        PromptKind::Permission
    } else {
        PromptKind::Question
    };
    Some(ScreenPrompt {
        kind,
        tool: tool.map(str::to_owned),
        title,
        detail,
        description,
        question,
        options,
        selected,
    })
}

/// The rows of a block without their common indentation, joined by newlines.
fn dedent(rows: &[&str]) -> Option<String> {
    let rows: Vec<&str> = {
        let mut r = rows.to_vec();
        while r.first().is_some_and(|x| x.trim().is_empty()) {
            r.remove(0);
        }
        while r.last().is_some_and(|x| x.trim().is_empty()) {
            r.pop();
        }
        r
    };
    if rows.is_empty() {
        return None;
    }
    let indent = rows
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| r.len() - r.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    Some(
        rows.iter()
            .map(|r| r.get(indent..).unwrap_or("").trim_end())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The tool a prompt's heading names.
fn tool_of_title(title: &str) -> Option<&'static str> {
    let t = title.to_lowercase();
    Some(match t.as_str() {
        "bash command" | "bash" | "run command" => "Bash",
        "edit file" | "edit" => "Edit",
        "create file" | "write file" | "overwrite file" => "Write",
        "read file" | "read files" => "Read",
        "edit notebook" => "NotebookEdit",
        "fetch" | "web fetch" => "WebFetch",
        "web search" => "WebSearch",
        "powershell command" => "PowerShell",
        "tool use" => "mcp",
        _ => return None,
    })
}

/// The file a question names: "Do you want to make this edit to main.rs?" → `main.rs`.
fn question_target(question: &str) -> Option<String> {
    let q = question.trim().strip_suffix('?')?;
    [
        "Do you want to make this edit to ",
        "Do you want to create ",
        "Do you want to overwrite ",
    ]
    .iter()
    .find_map(|p| q.strip_prefix(p))
    .map(|s| s.trim().to_owned())
    .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(text: &str) -> ScreenState {
        let rows: Vec<&str> = text.lines().collect();
        classify(&rows)
    }

    #[test]
    fn a_spinner_line_means_working() {
        let s = state(
            "❯ fix the tests\n● Reading src/lib.rs\n\n✻ Crunching… (12s · ↑ 1.2k tokens · esc to interrupt)\n\n──────────\n❯ \n──────────\n  ? for shortcuts",
        );
        assert_eq!(
            s,
            ScreenState::Working {
                activity: Some("✻ Crunching… (12s · ↑ 1.2k tokens · esc to interrupt)".into())
            }
        );
        // A spinner without the hint (narrow terminals drop it).
        let s = state("● Hi\n\n✶ Pondering…\n\n────────────\n❯ \n────────────");
        assert!(matches!(s, ScreenState::Working { .. }), "{s:?}");
    }

    #[test]
    fn the_input_box_after_a_finished_turn_means_waiting_for_input() {
        let s = state(
            "❯ please make a file\n● Done.\n✻ Crunched for 3s · done 11:53 PM\n\n────────────────\n❯ \n────────────────\n  ? for shortcuts\n\n",
        );
        assert_eq!(s, ScreenState::WaitingInput);
        // The old boxed input.
        let s =
            state("● Done.\n╭──────────────────╮\n│ > Try \"fix lint\" │\n╰──────────────────╯");
        assert_eq!(s, ScreenState::WaitingInput);
    }

    #[test]
    fn an_edit_prompt_names_the_file_and_keeps_the_diff() {
        let s = state(
            "● Update(src/main.rs)\n────────────────────────────────\n Edit file\n src/main.rs\n╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌\n   1  fn main() {\n   2 -    old();\n   2 +    new();\n╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌\n Do you want to make this edit to main.rs?\n ❯ 1. Yes\n   2. Yes, allow all edits during this session (shift+tab)\n   3. No, and tell Claude what to do differently (esc)\n",
        );
        let ScreenState::Prompt(p) = s else {
            panic!("not a prompt: {s:?}")
        };
        assert_eq!(p.kind, PromptKind::Permission);
        assert_eq!(p.tool.as_deref(), Some("Edit"));
        assert_eq!(p.description.as_deref(), Some("src/main.rs"));
        assert_eq!(
            p.detail.as_deref(),
            Some("1  fn main() {\n2 -    old();\n2 +    new();")
        );
        assert_eq!(p.options.len(), 3);
        assert_eq!(p.selected, Some(0));
    }

    #[test]
    fn a_numbered_list_in_the_output_is_not_a_prompt() {
        let s = state(
            "● Plan:\n  1. Read the code\n  2. Fix it\n  3. Test\n\nMore text\nmore\nmore\nmore\nmore\nmore\nmore\nmore\n────────\n❯ \n────────",
        );
        assert_eq!(s, ScreenState::WaitingInput);
    }

    #[test]
    fn a_question_with_options_is_a_question() {
        let s = state(
            "────────────────────\n Which database should I use?\n\n ❯ 1. SQLite\n   2. Postgres\n   3. Type something.\n Enter to select · Esc to cancel",
        );
        let ScreenState::Prompt(p) = s else {
            panic!("not a prompt: {s:?}")
        };
        assert_eq!(p.kind, PromptKind::Question);
        assert_eq!(p.question, "Which database should I use?");
        assert_eq!(p.options, vec!["SQLite", "Postgres", "Type something."]);
    }

    #[test]
    fn an_api_error_above_the_empty_input_box_is_a_failed_turn_until_the_user_types() {
        let text = include_str!("../../tests/data/claude-api-error-screen-2.1.328.txt");
        assert_eq!(
            state(text),
            ScreenState::Errored {
                message: "API Error: 529 Overloaded. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:41611).".into()
            }
        );
        // The user types: the hint gives way to their text.
        let typed = text.replace("Resend your message to try again", "are you there now?");
        assert_eq!(state(&typed), ScreenState::WaitingInput);
        // A new turn: its spinner above the box, the box empty.
        let again: Vec<&str> = text
            .lines()
            .map(|r| match r {
                r if r.contains("◐ medium") => "✻ Pondering… (1s · esc to interrupt)",
                r if r.contains("Resend your message") => "❯",
                r => r,
            })
            .collect();
        assert!(matches!(classify(&again), ScreenState::Working { .. }));
        // An answer that merely quotes an API error is not one (the box has no hint then).
        let quoted = text
            .replace("● API Error: 529", "● The log says API Error: 529")
            .replace("Resend your message to try again", "");
        assert_eq!(state(&quoted), ScreenState::WaitingInput);
    }

    #[test]
    fn an_empty_or_foreign_screen_is_unknown() {
        assert_eq!(state(""), ScreenState::Unknown);
        assert_eq!(state("$ ls\nfoo bar\n$"), ScreenState::Unknown);
    }
}
