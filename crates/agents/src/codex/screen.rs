//! Codex CLI's screen, classified: its approval prompt, a turn at work, a failed turn, or
//! its input box.

use crate::screen::{block_text, is_rule, numbered_option, trimmed_rows, PromptKind, ScreenPrompt};
use crate::ScreenState;
use std::time::Duration;

/// What Codex's screen shows: its approval prompt ("Would you like to run the following
/// command?"), working ("esc to interrupt"), a failed turn (an error above the empty input
/// box), or its input prompt (`›`).
pub fn classify_screen(rows: &[&str], _quiet_for: Option<Duration>) -> ScreenState {
    let rows = trimmed_rows(rows);
    let bottom = &rows[rows.len().saturating_sub(30)..];
    if let Some(qi) = bottom.iter().rposition(|r| {
        let t = r.trim().to_lowercase();
        t.starts_with("would you like to")
            || t.starts_with("allow command")
            || t.contains("approve") && t.ends_with('?')
    }) {
        let options: Vec<(bool, String)> = bottom[qi + 1..]
            .iter()
            .filter_map(|r| {
                numbered_option(r.trim_start_matches(['›', '▌', ' ']))
                    .map(|(s, _, t)| (s || r.trim_start().starts_with('›'), t.to_owned()))
            })
            .collect();
        let question = bottom[qi].trim().to_owned();
        let detail = bottom[..qi]
            .iter()
            .rev()
            .take(12)
            .find_map(|r| r.trim().strip_prefix("$ ").map(str::to_owned));
        let ql = question.to_lowercase();
        let tool = if ql.contains("command") {
            Some("shell".to_owned())
        } else if ql.contains("edit") {
            Some("apply_patch".to_owned())
        } else {
            None
        };
        if !options.is_empty() || detail.is_some() {
            return ScreenState::Prompt(ScreenPrompt {
                kind: PromptKind::Permission,
                tool,
                title: None,
                detail,
                description: None,
                question,
                selected: options.iter().position(|(s, _)| *s),
                options: options.into_iter().map(|(_, t)| t).collect(),
            });
        }
    }
    let tail = &bottom[bottom.len().saturating_sub(12)..];
    if let Some(line) = status_line(tail) {
        return ScreenState::Working {
            activity: Some(line.trim().to_owned()),
        };
    }
    if let Some(message) = failed_turn(bottom) {
        return ScreenState::Errored { message };
    }
    if turn_unfinished(bottom) {
        return ScreenState::Working { activity: None };
    }
    // Shell mode (the user typed `!`): the box reads "! command", the footer "Shell mode".
    let shell_mode = tail.last().is_some_and(|r| r.trim() == "Shell mode")
        && tail.iter().any(|r| r.starts_with('!'));
    if shell_mode
        || tail
            .iter()
            .any(|r| r.trim_start().starts_with('›') || r.trim_start().starts_with("▌"))
        || tail
            .windows(2)
            .any(|w| is_rule(w[0], '─') && w[1].trim_start().starts_with('>'))
    {
        return ScreenState::WaitingInput;
    }
    ScreenState::Unknown
}

/// The status line of a running turn: "• Working (3s • esc to interrupt)". A long header
/// (the model's reasoning title) is cut at the terminal's edge, hint and all: "◦ Let me think
/// about this carefully, … since the question d…" (`tests/data/codex-working-screen-0.169.0.txt`).
/// Cut or not, it is one row (glyph, text, `…`) with blank rows between it and the input box;
/// history cells wrap instead of being cut.
fn status_line<'a>(tail: &[&'a str]) -> Option<&'a str> {
    if let Some(row) = tail
        .iter()
        .rev()
        .find(|r| r.to_lowercase().contains("esc to interrupt"))
    {
        return Some(row);
    }
    let input = tail.iter().rposition(|r| r.starts_with('›'))?;
    let above = (0..input).rev().find(|&i| !tail[i].trim().is_empty())?;
    let row = tail[above];
    (above + 1 < input && (row.starts_with("• ") || row.starts_with("◦ ")) && row.ends_with('…'))
        .then_some(row)
}

/// Whether the history shows a turn that has not ended: the user's last prompt (`› …` above
/// the input box) answered by the agent (a `•` cell) with no end after it. 0.169.0 ends every
/// turn with "Worked for 3s • 05:48" ("Worked for <1s" for the quickest, a `!` shell command
/// too), an interrupt or an error with a `■` cell; while it streams its answer it hides the
/// status line (`tests/data/codex-streaming-screen-0.169.0.txt`). The slash-command menu
/// marks its choice with `›` too, with no `•` below it (`codex-slash-popup-screen-0.169.0.txt`).
fn turn_unfinished(rows: &[&str]) -> bool {
    let Some(input) = rows.iter().rposition(|r| r.starts_with('›')) else {
        return false;
    };
    let mut answered = false;
    for row in rows[..input].iter().rev() {
        if row.starts_with('■') || (row.starts_with("  ") && row.trim().starts_with("Worked for "))
        {
            return false;
        }
        if row.starts_with("• ") || row.starts_with("◦ ") {
            answered = true;
        }
        if row.starts_with('›') {
            return answered;
        }
    }
    false
}

/// What the input box shows while it is empty (0.169.0).
const EMPTY_INPUT: &str = "Ask Codex to do anything";

/// A turn that failed: its last history cell is an error ("■ We're currently experiencing
/// high demand, ...", `tests/data/codex-api-error-screen-0.169.0.txt`) and the input box is
/// empty. An interrupt is drawn the same way ("■ Conversation interrupted - ...") and is not
/// an error; typing in the box, or a new turn, ends it.
fn failed_turn(rows: &[&str]) -> Option<String> {
    let input = rows.iter().rposition(|r| r.starts_with('›'))?;
    let typed = rows[input].trim_start_matches('›').trim();
    if !typed.is_empty() && typed != EMPTY_INPUT {
        return None;
    }
    // The last cell: the nearest row above the box that is not a cell's indented continuation.
    let start = (0..input)
        .rev()
        .find(|&i| !rows[i].trim().is_empty() && !rows[i].starts_with(' '))?;
    let text = rows[start].strip_prefix('■')?.trim();
    if text.starts_with("Conversation interrupted") {
        return None;
    }
    Some(block_text(text, &rows[start + 1..input]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_approval_prompt_and_the_working_line_are_recognised() {
        let rows = [
            "• I'll create the file.",
            "",
            "  $ echo hi > made.txt",
            "",
            "Would you like to run the following command?",
            "",
            "› 1. Yes, proceed (y)",
            "  2. Yes, and don't ask again for this command (a)",
            "  3. No, and tell Codex what to do differently (esc)",
        ];
        let ScreenState::Prompt(p) = classify_screen(&rows, None) else {
            panic!("no prompt")
        };
        assert_eq!(p.tool.as_deref(), Some("shell"));
        assert_eq!(p.detail.as_deref(), Some("echo hi > made.txt"));
        assert_eq!(p.options.len(), 3);
        assert_eq!(p.selected, Some(0));
        let rows = [
            "• Working (3s • esc to interrupt)",
            "",
            "› Ask Codex to do anything",
        ];
        assert!(matches!(
            classify_screen(&rows, None),
            ScreenState::Working { .. }
        ));
        let rows = ["", "› Ask Codex to do anything", "", "  ⏎ send"];
        assert_eq!(classify_screen(&rows, None), ScreenState::WaitingInput);
    }

    /// A recorded screen (the corpus, `paddock-bench record-screens`) as rows.
    fn recorded(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn a_status_line_cut_at_the_terminals_edge_still_means_working() {
        let text = include_str!("../../tests/data/codex-working-screen-0.169.0.txt");
        let state = classify_screen(&recorded(text), None);
        let ScreenState::Working { activity: Some(a) } = &state else {
            panic!("not working: {state:?}")
        };
        assert!(a.starts_with("◦ Let me think") && a.ends_with("(2s • esc to interru…"));
        // Longer, the elapsed time and the hint are cut off too.
        let cut = "• Let me think about this carefully, one step after another, weighing each option before I answer, since the question d…";
        let longer: Vec<&str> = recorded(text)
            .into_iter()
            .map(|r| if r.starts_with("◦ Let me") { cut } else { r })
            .collect();
        assert!(matches!(
            classify_screen(&longer, None),
            ScreenState::Working { .. }
        ));
        // The answer that follows wraps: not a status line.
        let answer = [
            "› think it over",
            "",
            "• Here is a long answer, streamed slowly so that the screen shows the agent at work",
            "  for several seconds…",
            "  Worked for 10s • 05:48",
            "",
            "› Ask Codex to do anything",
        ];
        assert_eq!(classify_screen(&answer, None), ScreenState::WaitingInput);
    }

    #[test]
    fn an_answer_still_streaming_is_working_until_the_turn_says_it_ended() {
        // 0.169.0 hides its status line while the answer streams in.
        let text = include_str!("../../tests/data/codex-streaming-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::Working { activity: None }
        );
        // The end of the turn (as the recording shows it next).
        let ended = text.replacen(
            "farrier who is due next week. That is all.",
            "farrier who is due next week. That is all.\n  Worked for 10s • 05:48",
            1,
        );
        assert_eq!(
            classify_screen(&recorded(&ended), None),
            ScreenState::WaitingInput
        );
        // The slash-command menu's choice is not the user's prompt.
        let text = include_str!("../../tests/data/codex-slash-popup-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::WaitingInput
        );
        // Shell mode: "! echo hi" typed into the box, not sent.
        let text = include_str!("../../tests/data/codex-shell-mode-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::WaitingInput
        );
        // Before any turn, the banner is above the input box: waiting, not working.
        let text = include_str!("../../tests/data/codex-interrupted-screen-0.169.0.txt");
        let fresh: Vec<&str> = recorded(text)
            .into_iter()
            .filter(|r| !r.starts_with("› start") && !r.starts_with('■'))
            .collect();
        assert_eq!(classify_screen(&fresh, None), ScreenState::WaitingInput);
    }

    #[test]
    fn an_error_above_the_empty_input_box_is_a_failed_turn_until_the_user_types() {
        let text = include_str!("../../tests/data/codex-api-error-screen-0.169.0.txt");
        let rows = recorded(text);
        assert_eq!(
            classify_screen(&rows, None),
            ScreenState::Errored {
                message:
                    "We’re currently experiencing high demand, which may cause temporary errors."
                        .into()
            }
        );
        // The user types their next message: waiting for it to be sent.
        let typed = text.replace("› Ask Codex to do anything", "› are you there now?");
        assert_eq!(
            classify_screen(&recorded(&typed), None),
            ScreenState::WaitingInput
        );
        // An interrupt is drawn the same way and is not an error.
        let text = include_str!("../../tests/data/codex-interrupted-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::WaitingInput
        );
    }
}
