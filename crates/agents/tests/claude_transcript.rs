//! Claude Code transcripts: what a user sees from the real sample written by 2.1.328, and
//! synthetic files for the edge cases (partial and garbage lines, unknown records, duplicate
//! response ids, huge lines, truncation), read through the store as the supervisor does.

use paddock_agents::claude::transcript::ClaudeTranscript;
use paddock_agents::{AgentKind, LiveTranscript, Prices};
use paddock_proto::insight::{ActionStatus, FileOperation, TodoStatus};
use paddock_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claude-transcript-2.1.328.jsonl")
}

#[test]
fn the_real_transcript_shows_task_action_tokens_and_reported_cost() {
    let mut t = ClaudeTranscript::new();
    for line in std::fs::read(sample())
        .expect("sample")
        .split(|b| *b == b'\n')
    {
        t.apply_line(line);
    }
    let i = t.insight(&Prices::default());
    assert_eq!(
        i.agent_session_id.as_deref(),
        Some("63a89093-4ee6-447d-b5e0-c1488233b86a")
    );
    assert_eq!(i.current_task.as_deref(), Some("please make a file now"));
    assert_eq!(i.first_prompt.as_deref(), Some("please make a file"));
    assert_eq!(i.prompts, 2);
    assert_eq!(i.cwd.as_deref(), Some("/home/dev/app"));
    assert_eq!(i.git_branch.as_deref(), Some("HEAD"));
    assert_eq!(i.model.as_deref(), Some("claude-opus-5-5"));
    assert_eq!(i.agent_version.as_deref(), Some("2.1.328"));
    // One action: the Bash call, paired with its result.
    assert_eq!(i.recent_actions.len(), 1);
    let a = &i.recent_actions[0];
    assert_eq!(a.tool, "Bash");
    assert_eq!(a.input_summary, "echo hi > made.txt");
    assert_eq!(a.status, ActionStatus::Succeeded);
    assert_eq!(
        a.result_summary.as_deref(),
        Some("(Bash completed with no output)")
    );
    // 23:53:29.930 → 23:53:30.656
    assert_eq!(a.duration_ms, Some(726));
    // Three responses (the mock server reused one message id, but each came from its own
    // request): 3 × 12 in, 3 × 7 out, as the CLI's own cost-state record counts them.
    assert_eq!(i.responses, 3);
    assert_eq!((i.tokens.input, i.tokens.output), (36, 21));
    assert_eq!(i.cost.reported_usd, Some(0.0005639999999999999));
    // claude-opus-5-5 is not in the embedded price table: listed, not guessed.
    assert_eq!(i.cost.unpriced_models, vec!["claude-opus-5-5"]);
    assert!(
        i.files_modified.is_empty(),
        "a Bash redirect is not an Edit/Write"
    );
    assert_eq!(i.skipped_lines, 0);
    // Both turns ended (turn_duration records).
    assert_eq!(t.turn_active(), Some(false));
    t.apply_line(br#"{"type":"user","message":{"role":"user","content":"one more"}}"#);
    assert_eq!(t.turn_active(), Some(true));
}

/// Lines of a realistic session, written as Claude Code writes them.
mod lines {
    use serde_json::{json, Value};

    fn base(kind: &str, ts: &str) -> Value {
        json!({"type": kind, "timestamp": ts, "sessionId": "s-1", "cwd": "/w/app",
               "gitBranch": "feature/x", "version": "2.1.330", "uuid": format!("u-{ts}"),
               "isSidechain": false})
    }

    pub fn prompt(ts: &str, text: &str) -> String {
        let mut v = base("user", ts);
        v["message"] = json!({"role": "user", "content": text});
        v.to_string()
    }

    /// One API response may be several lines sharing message.id and request, usage repeated.
    pub fn assistant(ts: &str, msg: &str, req: &str, blocks: Value, usage: Value) -> String {
        let mut v = base("assistant", ts);
        v["requestId"] = json!(req);
        v["message"] = json!({"id": msg, "model": "claude-sonnet-4-5-20250929", "role": "assistant",
                              "content": blocks, "usage": usage});
        v.to_string()
    }

    pub fn result(
        ts: &str,
        id: &str,
        text: &str,
        is_error: bool,
        tool_use_result: Value,
    ) -> String {
        let mut v = base("user", ts);
        v["message"] = json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": text, "is_error": is_error}]});
        v["toolUseResult"] = tool_use_result;
        v.to_string()
    }

    pub fn usage(input: u64, cw: u64, cr: u64, out: u64) -> Value {
        json!({"input_tokens": input, "cache_creation_input_tokens": cw,
               "cache_read_input_tokens": cr, "output_tokens": out})
    }
}

fn synthetic_session() -> Vec<String> {
    use lines::*;
    use serde_json::json;
    vec![
        prompt(
            "2026-11-21T10:00:00.000Z",
            "add a --verbose flag and test it",
        ),
        json!({"type": "some-future-record", "payload": {"x": 1}}).to_string(),
        // Response 1, written as three lines: thinking, an Edit, a TodoWrite.
        assistant(
            "2026-11-21T10:00:05.000Z",
            "msg_1",
            "req_1",
            json!([{"type": "thinking", "thinking": "The flag belongs in cli.rs. Options:\n- reuse the log level\n- add a bool field\nI'll add a bool."}]),
            usage(100, 1000, 2000, 50),
        ),
        assistant(
            "2026-11-21T10:00:05.100Z",
            "msg_1",
            "req_1",
            json!([{"type": "tool_use", "id": "t_todo", "name": "TodoWrite", "input": {"todos": [
                {"content": "Add the flag", "status": "in_progress", "activeForm": "Adding the flag"},
                {"content": "Write the test", "status": "pending", "activeForm": "Writing the test"},
                {"content": "Run the tests", "status": "pending", "activeForm": "Running the tests"}]}}]),
            usage(100, 1000, 2000, 50),
        ),
        assistant(
            "2026-11-21T10:00:05.200Z",
            "msg_1",
            "req_1",
            json!([{"type": "tool_use", "id": "t_edit", "name": "Edit", "input": {
                "file_path": "/w/app/src/cli.rs", "old_string": "struct Args {", "new_string": "struct Args {\n    verbose: bool,"}}]),
            usage(100, 1000, 2000, 50),
        ),
        result(
            "2026-11-21T10:00:05.300Z",
            "t_todo",
            "Todos have been modified successfully",
            false,
            json!({}),
        ),
        result(
            "2026-11-21T10:00:06.000Z",
            "t_edit",
            "The file /w/app/src/cli.rs has been updated.",
            false,
            json!({
            "filePath": "/w/app/src/cli.rs",
            "structuredPatch": [{"oldStart": 3, "oldLines": 1, "newStart": 3, "newLines": 2,
                                 "lines": [" struct Args {", "+    verbose: bool,"]}]}),
        ),
        "{\"type\": \"assistant\", \"message\": {\"id\": \"cut".to_owned(),
        // Response 2: a new test file, then a failing test run, todo progress.
        assistant(
            "2026-11-21T10:02:00.000Z",
            "msg_2",
            "req_2",
            json!([{"type": "tool_use", "id": "t_write", "name": "Write", "input": {
                "file_path": "/w/app/tests/verbose.rs", "content": "#[test]\nfn verbose() {}\n"}},
                   {"type": "tool_use", "id": "t_bash", "name": "Bash", "input": {"command": "cargo test verbose"}}]),
            usage(10, 0, 3000, 200),
        ),
        result(
            "2026-11-21T10:02:01.000Z",
            "t_write",
            "File created successfully at: /w/app/tests/verbose.rs",
            false,
            json!({
            "type": "create", "filePath": "/w/app/tests/verbose.rs", "content": "#[test]\nfn verbose() {}\n", "structuredPatch": []}),
        ),
        result(
            "2026-11-21T10:02:09.500Z",
            "t_bash",
            "error: test failed, to rerun pass `--test verbose`\nmore",
            true,
            json!("Error: exit 101"),
        ),
        assistant(
            "2026-11-21T10:04:00.000Z",
            "msg_3",
            "req_3",
            json!([{"type": "tool_use", "id": "t_todo2", "name": "TodoWrite", "input": {"todos": [
                {"content": "Add the flag", "status": "completed", "activeForm": "Adding the flag"},
                {"content": "Write the test", "status": "in_progress", "activeForm": "Writing the test"},
                {"content": "Run the tests", "status": "pending", "activeForm": "Running the tests"}]}}]),
            usage(5, 0, 3500, 20),
        ),
        result(
            "2026-11-21T10:04:00.100Z",
            "t_todo2",
            "Todos have been modified successfully",
            false,
            json!({}),
        ),
        "not json at all".to_owned(),
        json!({"type": "cost-state", "totalCostUSD": 0.0123}).to_string(),
    ]
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open");
    for l in lines {
        writeln!(f, "{l}").expect("write");
    }
}

#[test]
fn a_session_shows_its_actions_files_progress_thinking_and_tokens_once_per_response() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s-1.jsonl");
    write_lines(&path, &synthetic_session());
    let store = Store::open_in_memory().expect("store");
    let mut live = LiveTranscript::open(&AgentKind::Claude, &path, Some(&store)).expect("open");
    live.poll().expect("poll");
    let i = live.insight(&Prices::default());

    assert_eq!(
        i.current_task.as_deref(),
        Some("add a --verbose flag and test it")
    );
    assert_eq!(i.git_branch.as_deref(), Some("feature/x"));
    assert_eq!(i.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    let actions: Vec<(&str, &str, ActionStatus)> = i
        .recent_actions
        .iter()
        .map(|a| (a.tool.as_str(), a.input_summary.as_str(), a.status))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("TodoWrite", "0/3 todos done", ActionStatus::Succeeded),
            ("Edit", "/w/app/src/cli.rs", ActionStatus::Succeeded),
            ("Write", "/w/app/tests/verbose.rs", ActionStatus::Succeeded),
            ("Bash", "cargo test verbose", ActionStatus::Failed),
            ("TodoWrite", "1/3 todos done", ActionStatus::Succeeded),
        ]
    );
    let bash = &i.recent_actions[3];
    assert_eq!(
        bash.error.as_deref(),
        Some("error: test failed, to rerun pass `--test verbose` more")
    );
    assert_eq!(bash.duration_ms, Some(9500));

    let files: Vec<(&str, FileOperation, u64, u64)> = i
        .files_modified
        .iter()
        .map(|f| (f.path.as_str(), f.operation, f.lines_added, f.lines_removed))
        .collect();
    assert_eq!(
        files,
        vec![
            ("/w/app/src/cli.rs", FileOperation::Modified, 1, 0),
            ("/w/app/tests/verbose.rs", FileOperation::Created, 2, 0),
        ]
    );
    assert_eq!(
        i.files_modified[0].diff.as_deref(),
        Some("@@ -3,1 +3,2 @@\n struct Args {\n+    verbose: bool,\n")
    );

    let p = i.progress.as_ref().expect("progress");
    assert_eq!((p.done, p.total), (1, 3));
    assert_eq!(p.items[1].status, TodoStatus::InProgress);
    // The list was accepted at 10:00:05.3, one item done by 10:04:00.1: ~4 min each, 2 left.
    let e = p.estimate.as_ref().expect("estimate");
    assert!(e.is_estimate);
    assert_eq!(e.remaining_ms, 2 * 234_800);
    assert!(
        e.basis.starts_with("estimate: 1 of 3 done in 4 min"),
        "{}",
        e.basis
    );

    assert_eq!(
        i.thinking.next_actions,
        vec!["Writing the test", "Run the tests"]
    );
    assert!(i
        .thinking
        .current_reasoning
        .as_deref()
        .is_some_and(|r| r.starts_with("The flag belongs in cli.rs.")));
    assert_eq!(
        i.thinking.decision_factors,
        vec!["reuse the log level", "add a bool field"]
    );
    assert!(i
        .thinking
        .context_summary
        .as_deref()
        .is_some_and(|c| c.contains("2 files changed")));

    // Response 1 was written three times: counted once.
    assert_eq!(i.responses, 3);
    assert_eq!(i.tokens.input, 115);
    assert_eq!(i.tokens.output, 270);
    assert_eq!(i.tokens.cache_creation, 1000);
    assert_eq!(i.tokens.cache_read, 8500);
    assert_eq!(i.tokens.context, 3505);
    // Sonnet 4.5: 115×3 + 270×15 + 1000×3.75 + 8500×0.30 = 10,695 µ$.
    assert!(
        (i.cost.estimated_usd - 0.010695).abs() < 1e-9,
        "{:?}",
        i.cost
    );
    assert_eq!(i.cost.reported_usd, Some(0.0123));
    assert_eq!(i.skipped_lines, 2, "the cut line and the garbage line");
}

#[test]
fn appended_lines_are_read_once_and_a_restart_resumes_from_the_saved_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s-1.jsonl");
    let db = dir.path().join("paddock.db");
    let all = synthetic_session();
    write_lines(&path, &all[..3]);
    // Half a line: the writer has not finished it.
    let half = &all[3][..40];
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(half.as_bytes()))
        .expect("append");
    {
        let store = Store::open(&db).expect("store");
        let mut live = LiveTranscript::open(&AgentKind::Claude, &path, Some(&store)).expect("open");
        let out = live.poll().expect("poll");
        assert_eq!(out.lines, 3);
        let i = live.insight(&Prices::default());
        assert_eq!(i.responses, 1);
        assert_eq!(i.skipped_lines, 0, "the half line is not read yet");
        live.checkpoint().expect("save");
    }
    // The rest of the line and the rest of the session arrive while Paddock is down.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{}\n", &all[3][40..]).as_bytes()))
        .expect("append");
    write_lines(&path, &all[4..]);
    let store = Store::open(&db).expect("reopen");
    let mut live = LiveTranscript::open(&AgentKind::Claude, &path, Some(&store)).expect("open");
    let out = live.poll().expect("poll");
    assert_eq!(
        out.lines as usize,
        all.len() - 3,
        "only the lines not read before"
    );
    let i = live.insight(&Prices::default());
    // The same totals as reading the whole file in one go: nothing counted twice.
    assert_eq!(
        (i.tokens.input, i.tokens.output, i.responses),
        (115, 270, 3)
    );
    assert_eq!(i.recent_actions.len(), 5);
    assert_eq!(live.poll().expect("poll").lines, 0);
}

#[test]
fn a_truncated_transcript_is_read_again_and_huge_lines_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s-1.jsonl");
    write_lines(&path, &synthetic_session());
    let mut live = LiveTranscript::open(&AgentKind::Claude, &path, None)
        .expect("open")
        .with_max_line(64 * 1024);
    live.poll().expect("poll");
    assert_eq!(live.insight(&Prices::default()).responses, 3);
    // The file is replaced by a shorter one (a /clear in place, a rewrite): start over.
    std::fs::write(
        &path,
        format!(
            "{}\n",
            lines::prompt("2026-11-21T11:00:00.000Z", "new task")
        ),
    )
    .expect("truncate");
    let out = live.poll().expect("poll");
    assert!(out.reset);
    let i = live.insight(&Prices::default());
    assert_eq!(i.current_task.as_deref(), Some("new task"));
    assert_eq!((i.responses, i.tokens.input), (0, 0));
    // A 200 KiB line (an image in a tool result) over the 64 KiB limit: skipped, counted.
    let huge = lines::result(
        "2026-11-21T11:00:01.000Z",
        "t_img",
        &"A".repeat(200 * 1024),
        false,
        serde_json::json!({}),
    );
    write_lines(
        &path,
        &[
            huge,
            lines::prompt("2026-11-21T11:00:02.000Z", "after the image"),
        ],
    );
    live.poll().expect("poll");
    let i = live.insight(&Prices::default());
    assert_eq!(i.skipped_lines, 1);
    assert_eq!(i.current_task.as_deref(), Some("after the image"));
}

#[test]
fn a_huge_diff_is_cut_but_its_lines_are_all_counted() {
    use serde_json::json;
    let added: Vec<String> = (0..4000)
        .map(|i| format!("+line number {i} of a generated file"))
        .collect();
    let mut t = ClaudeTranscript::new();
    t.apply_line(
        lines::assistant(
            "2026-11-21T10:00:00.000Z",
            "m",
            "r",
            json!([{"type": "tool_use", "id": "w", "name": "Write", "input": {"file_path": "/w/big.txt", "content": "x"}}]),
            lines::usage(1, 0, 0, 1),
        )
        .as_bytes(),
    );
    t.apply_line(
        lines::result(
            "2026-11-21T10:00:01.000Z",
            "w",
            "File written",
            false,
            json!({"type": "update", "filePath": "/w/big.txt",
                   "structuredPatch": [{"oldStart": 1, "oldLines": 0, "newStart": 1, "newLines": 4000, "lines": added}]}),
        )
        .as_bytes(),
    );
    let i = t.insight(&Prices::default());
    let f = &i.files_modified[0];
    assert_eq!(
        (f.operation, f.lines_added),
        (FileOperation::Modified, 4000)
    );
    assert!(f.diff_truncated);
    let diff = f.diff.as_deref().unwrap_or("");
    assert!(
        diff.len() <= paddock_agents::claude::transcript::MAX_DIFF,
        "{}",
        diff.len()
    );
    assert!(diff.starts_with("@@ -1,0 +1,4000 @@\n+line number 0 "));
}
