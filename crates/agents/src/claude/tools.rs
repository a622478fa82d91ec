//! Claude Code's tools as people see them: one line saying what a call does.

use serde_json::Value;

/// The longest summary line, in characters.
pub const SUMMARY_MAX: usize = 200;

/// One line saying what a call of `tool` with `input` does: the command of Bash, the file of
/// a file tool, the pattern of a search, the URL of a fetch, ..., else the first string in
/// the input. Cut to [`SUMMARY_MAX`] characters.
pub fn input_summary(tool: &str, input: &Value) -> String {
    let field = |k: &str| input.get(k).and_then(Value::as_str);
    let s = match tool {
        "Bash" | "BashOutput" | "PowerShell" => field("command").map(str::to_owned),
        "Read" | "Write" | "Edit" | "MultiEdit" => field("file_path").map(str::to_owned),
        "NotebookEdit" | "NotebookRead" => field("notebook_path").map(str::to_owned),
        "Grep" => field("pattern").map(|p| match field("path") {
            Some(path) => format!("{p} in {path}"),
            None => p.to_owned(),
        }),
        "Glob" => field("pattern").map(str::to_owned),
        "WebFetch" => field("url").map(str::to_owned),
        "WebSearch" => field("query").map(str::to_owned),
        "Task" | "Agent" => field("description")
            .or_else(|| field("prompt"))
            .map(str::to_owned),
        "TodoWrite" => input.get("todos").and_then(Value::as_array).map(|todos| {
            let done = todos
                .iter()
                .filter(|t| t.get("status").and_then(Value::as_str) == Some("completed"))
                .count();
            format!("{done}/{} todos done", todos.len())
        }),
        "TaskCreate" => field("subject")
            .or_else(|| field("description"))
            .map(str::to_owned),
        "TaskUpdate" => match (field("taskId").or_else(|| field("id")), field("status")) {
            (Some(id), Some(st)) => Some(format!("task {id}: {st}")),
            (Some(id), None) => Some(format!("task {id}")),
            _ => None,
        },
        _ => None,
    };
    let s = s
        .or_else(|| field("description").map(str::to_owned))
        .or_else(|| first_string(input).map(str::to_owned))
        .unwrap_or_default();
    one_line(&s, SUMMARY_MAX)
}

fn first_string(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(m) => m.values().find_map(first_string),
        Value::Array(a) => a.iter().find_map(first_string),
        _ => None,
    }
}

/// `s` on one line (newlines and tabs become spaces, runs of spaces collapse), cut to `max`
/// characters with an ellipsis.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut count = 0usize;
    let mut last_space = true;
    for c in s.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == max {
            out.pop();
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_show_what_each_tool_does() {
        let cases = [
            (
                "Bash",
                json!({"command": "echo hi > made.txt", "description": "Create made.txt"}),
                "echo hi > made.txt",
            ),
            (
                "Edit",
                json!({"file_path": "/a/b.rs", "old_string": "x", "new_string": "y"}),
                "/a/b.rs",
            ),
            (
                "Grep",
                json!({"pattern": "fn main", "path": "src"}),
                "fn main in src",
            ),
            (
                "WebFetch",
                json!({"url": "https://example.com", "prompt": "p"}),
                "https://example.com",
            ),
            (
                "TodoWrite",
                json!({"todos": [{"status": "completed"}, {"status": "pending"}]}),
                "1/2 todos done",
            ),
            ("mcp__gh__create_issue", json!({"title": "Bug"}), "Bug"),
            ("Unknown", json!(42), ""),
        ];
        for (tool, input, want) in cases {
            assert_eq!(input_summary(tool, &input), want, "{tool}");
        }
    }

    #[test]
    fn one_line_collapses_whitespace_and_cuts_with_an_ellipsis() {
        assert_eq!(one_line("a\n\n  b\tc ", 10), "a b c");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
        assert_eq!(one_line("abcde", 5), "abcde");
        assert_eq!(one_line("ééééé", 3), "éé…");
    }
}
