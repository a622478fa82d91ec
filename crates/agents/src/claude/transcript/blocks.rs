//! The pieces of a Claude Code transcript line: times, message text, prompts as the user
//! wrote them, tool results and the diffs of file edits.

use super::MAX_PROMPT;
use crate::claude::tools::one_line;
use crate::json::str_of;
use serde_json::Value;

/// Parses an RFC 3339 timestamp (`2026-11-21T23:53:02.111Z`) to unix ms.
pub fn parse_time(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339(s))
        .ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}

pub(super) fn u64_of(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The text of a message's content: a string, or its `text` blocks joined.
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| str_of(b, "type") == Some("text"))
                .filter_map(|b| str_of(b, "text"))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

/// A slash command as typed: `<command-name>/review</command-name><command-args>x</command-args>`
/// → `/review x`.
pub(crate) fn readable_prompt(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty()
        || t.starts_with("<local-command-stdout>")
        || t.starts_with("<local-command-stderr>")
    {
        return None;
    }
    if t.starts_with("<command-") {
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let close = format!("</{name}>");
            let start = t.find(&open)? + open.len();
            let end = t[start..].find(&close)? + start;
            Some(t[start..end].trim().to_owned())
        };
        let name = tag("command-name")?;
        return Some(match tag("command-args").filter(|a| !a.is_empty()) {
            Some(args) => format!("{name} {args}"),
            None => name,
        });
    }
    if t.starts_with("<system-reminder>") || t.starts_with("Caveat: ") {
        return None;
    }
    Some(cut(t, MAX_PROMPT))
}

/// `s` cut to `max` characters with an ellipsis.
pub(crate) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The last `max` characters of `s`, with an ellipsis before.
pub(super) fn tail_chars(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let skip = n - max;
    let i = s.char_indices().nth(skip).map_or(0, |(i, _)| i);
    format!("…{}", &s[i..])
}

/// One line of a tool's result.
pub(crate) fn result_text(block: &Value) -> String {
    match block.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match str_of(p, "type") {
                Some("text") => str_of(p, "text").map(str::to_owned),
                Some("image") => Some("[image]".to_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

pub(super) fn summarize_result(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let more = lines.count();
    let first = one_line(first, 160);
    if more == 0 {
        first
    } else {
        format!("{first} (+{more} lines)")
    }
}

/// A file tool's diff (`@@` hunks of `+`/`-`/` ` lines) and its added and removed line
/// counts: the result's `structuredPatch` when there is one, else built from the input
/// (Edit, MultiEdit, Write, NotebookEdit).
pub(crate) fn edit_diff(tool: &str, input: &Value, result: Option<&Value>) -> (String, u64, u64) {
    // The diff: the result's structuredPatch when there is one, else built from the input.
    let mut diff = String::new();
    let (mut added, mut removed) = (0u64, 0u64);
    let patch = result
        .and_then(|r| r.get("structuredPatch"))
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty());
    if let Some(hunks) = patch {
        for h in hunks {
            diff.push_str(&format!(
                "@@ -{},{} +{},{} @@\n",
                u64_of(h, "oldStart"),
                u64_of(h, "oldLines"),
                u64_of(h, "newStart"),
                u64_of(h, "newLines")
            ));
            for l in h
                .get("lines")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(l) = l.as_str() else { continue };
                if l.starts_with('+') {
                    added += 1;
                } else if l.starts_with('-') {
                    removed += 1;
                }
                diff.push_str(l);
                diff.push('\n');
            }
        }
    } else {
        let mut pair = |old: &str, new: &str| {
            for l in old.lines() {
                removed += 1;
                diff.push('-');
                diff.push_str(l);
                diff.push('\n');
            }
            for l in new.lines() {
                added += 1;
                diff.push('+');
                diff.push_str(l);
                diff.push('\n');
            }
        };
        match tool {
            "Edit" => pair(
                str_of(input, "old_string").unwrap_or(""),
                str_of(input, "new_string").unwrap_or(""),
            ),
            "MultiEdit" => {
                for e in input
                    .get("edits")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    pair(
                        str_of(e, "old_string").unwrap_or(""),
                        str_of(e, "new_string").unwrap_or(""),
                    );
                }
            }
            "Write" => pair("", str_of(input, "content").unwrap_or("")),
            "NotebookEdit" => pair("", str_of(input, "new_source").unwrap_or("")),
            _ => {}
        }
    }
    (diff, added, removed)
}
