//! Codex's tool calls in words: a call's one-line summary, the files an `apply_patch` body
//! names, a response item's text parts, and a tool's recorded output (exit code, duration, text).

use crate::claude::tools::one_line;
use crate::json::str_of;
use serde_json::Value;

/// The `text` of each part in the list at `key` of a response item (`content` of a message,
/// `summary` of a reasoning item).
pub(crate) fn text_parts<'a>(item: &'a Value, key: &str) -> Vec<&'a str> {
    item.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| str_of(c, "text"))
        .collect()
}

/// The patch an `apply_patch` call sends: its whole argument, or its `input` / `patch`.
pub(crate) fn patch_body(args: &Value) -> Option<String> {
    match args {
        Value::String(s) => Some(s.clone()),
        v => str_of(v, "input")
            .or_else(|| str_of(v, "patch"))
            .map(str::to_owned),
    }
}

/// The lines of an `apply_patch` body: `(path, created, added, removed)` per file.
pub(crate) fn patch_files(patch: &str) -> Vec<(String, bool, u64, u64)> {
    let mut out: Vec<(String, bool, u64, u64)> = Vec::new();
    for line in patch.lines() {
        if let Some(p) = line.strip_prefix("*** Add File: ") {
            out.push((p.trim().to_owned(), true, 0, 0));
        } else if let Some(p) = line
            .strip_prefix("*** Update File: ")
            .or_else(|| line.strip_prefix("*** Delete File: "))
        {
            out.push((p.trim().to_owned(), false, 0, 0));
        } else if let Some(f) = out.last_mut() {
            if line.starts_with('+') {
                f.2 += 1;
            } else if line.starts_with('-') {
                f.3 += 1;
            }
        }
    }
    out
}

/// A tool call's arguments (`function_call`, `custom_tool_call`, `local_shell_call`):
/// `arguments` is a JSON string (kept as text when it does not parse); custom tools take
/// their raw `input`, shell calls an `action`.
pub(crate) fn call_args(call: &Value) -> Value {
    match call.get("arguments") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
        Some(other) => other.clone(),
        None => call
            .get("input")
            .or_else(|| call.get("action"))
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// What a Codex tool call does, in one line.
pub(crate) fn codex_summary(tool: &str, args: &Value) -> String {
    let cmd = args
        .get("command")
        .or_else(|| args.get("cmd"))
        .map(|c| match c {
            Value::Array(parts) => parts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    // `bash -lc "<script>"`: the script is what was run.
    let cmd = cmd.map(|c| {
        c.strip_prefix("bash -lc ")
            .or_else(|| c.strip_prefix("sh -c "))
            .map(str::to_owned)
            .unwrap_or(c)
    });
    match (tool, cmd) {
        (_, Some(c)) => one_line(&c, 200),
        ("apply_patch", None) => {
            let patch = match args {
                Value::String(s) => s.as_str(),
                v => str_of(v, "input").unwrap_or(""),
            };
            let files: Vec<String> = patch_files(patch).into_iter().map(|f| f.0).collect();
            one_line(&files.join(", "), 200)
        }
        _ => crate::claude::tools::input_summary(tool, args),
    }
}

/// A tool's output as Codex recorded it.
pub(crate) struct ToolOutput {
    /// What the tool printed (without Codex's header lines).
    pub(crate) text: String,
    pub(crate) exit_code: Option<i64>,
    pub(crate) secs: Option<f64>,
    /// Codex refused the call ("unsupported call: …").
    pub(crate) refused: bool,
}

/// Reads a tool's output: `{"output": "...", "metadata": {"exit_code": 0,
/// "duration_seconds": 0.5}}` (as a JSON string or an object), or the text of 0.169's
/// `exec_command` (`Wall time: 0.01 seconds` / `Process exited with code 1` /
/// `Output:` then the output), or plain text.
pub(crate) fn tool_output(v: &Value) -> ToolOutput {
    let parsed;
    let v = match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ Value::Object(_)) => {
                parsed = inner;
                &parsed
            }
            _ => return text_output(s),
        },
        other => other,
    };
    let text = str_of(v, "output")
        .or_else(|| str_of(v, "content"))
        .unwrap_or("")
        .to_owned();
    let meta = v.get("metadata");
    ToolOutput {
        refused: text.starts_with("unsupported call"),
        text,
        exit_code: meta
            .and_then(|m| m.get("exit_code"))
            .and_then(Value::as_i64),
        secs: meta
            .and_then(|m| m.get("duration_seconds"))
            .and_then(Value::as_f64),
    }
}

fn text_output(s: &str) -> ToolOutput {
    let mut exit_code = None;
    let mut secs = None;
    let mut body = None;
    let mut offset = 0;
    for line in s.split_inclusive('\n') {
        let l = line.trim_end();
        offset += line.len();
        if let Some(c) = l.strip_prefix("Process exited with code ") {
            exit_code = c.trim().parse().ok();
        } else if let Some(t) = l.strip_prefix("Wall time: ") {
            secs = t.trim_end_matches("seconds").trim().parse().ok();
        } else if l == "Output:" {
            body = Some(&s[offset..]);
            break;
        }
    }
    ToolOutput {
        text: body.unwrap_or(s).to_owned(),
        exit_code,
        secs,
        refused: s.starts_with("unsupported call"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_command_output_gives_the_exit_code_duration_and_output() {
        let o = tool_output(&Value::String(
            "Chunk ID: 65a5e1\nWall time: 0.2500 seconds\nProcess exited with code 1\nOriginal token count: 11\nOutput:\ncat: missing.txt: No such file or directory\n".into(),
        ));
        assert_eq!(o.exit_code, Some(1));
        assert_eq!(o.secs, Some(0.25));
        assert_eq!(o.text, "cat: missing.txt: No such file or directory\n");
        assert!(tool_output(&Value::String("unsupported call: apply_patch".into())).refused);
        let o = tool_output(&Value::String("plain text".into()));
        assert_eq!(
            (o.exit_code, o.text.as_str(), o.refused),
            (None, "plain text", false)
        );
    }

    #[test]
    fn apply_patch_bodies_name_their_files() {
        let files = patch_files(
            "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** Update File: src/b.rs\n@@\n-old\n+new\n+more\n*** End Patch",
        );
        assert_eq!(
            files,
            vec![
                ("a.txt".into(), true, 1, 0),
                ("src/b.rs".into(), false, 2, 1)
            ]
        );
    }
}
