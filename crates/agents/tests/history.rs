//! The history index over a real-looking `~/.claude/projects` tree (the real 2.1.328 sample
//! plus synthetic sessions) and Codex rollouts, through a real SQLite store, and the watcher
//! that tells of new lines.

use paddock_agents::claude::ClaudePaths;
use paddock_agents::codex::CodexPaths;
use paddock_agents::{HistoryIndexer, Prices, TranscriptWatcher};
use paddock_store::{HistoryQuery, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claude-transcript-2.1.328.jsonl")
}

fn line(v: serde_json::Value) -> String {
    format!("{v}\n")
}

fn prompt(session: &str, ts: &str, text: &str) -> String {
    line(
        serde_json::json!({"type": "user", "sessionId": session, "timestamp": ts,
        "cwd": "/home/dev/api", "gitBranch": "main",
        "message": {"role": "user", "content": text}}),
    )
}

fn answer(session: &str, ts: &str, id: &str, text: &str, out: u64) -> String {
    line(
        serde_json::json!({"type": "assistant", "sessionId": session, "timestamp": ts,
        "requestId": format!("req_{id}"),
        "message": {"id": id, "model": "claude-haiku-4-5-20251001", "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 1000, "output_tokens": out, "cache_read_input_tokens": 0,
                      "cache_creation_input_tokens": 0}}}),
    )
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("append");
}

struct Tree {
    _dir: tempfile::TempDir,
    claude: ClaudePaths,
    codex: CodexPaths,
    store: Store,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().expect("tempdir");
    let claude = ClaudePaths::new(dir.path().join(".claude"));
    let codex = CodexPaths {
        root: dir.path().join(".codex"),
    };
    let app = claude.projects().join("-home-dev-app");
    let api = claude.projects().join("-home-dev-api");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::create_dir_all(&api).expect("mkdir");
    std::fs::copy(
        sample(),
        app.join("63a89093-4ee6-447d-b5e0-c1488233b86a.jsonl"),
    )
    .expect("copy");
    let s = "b2";
    let mut text = prompt(
        s,
        "2026-11-20T09:00:00.000Z",
        "migrate the billing tables to postgres",
    );
    // One response written twice (same id and request): counted once.
    text += &answer(
        s,
        "2026-11-20T09:00:10.000Z",
        "msg_a",
        "I will write an idempotent migration.",
        300,
    );
    text += &answer(
        s,
        "2026-11-20T09:00:10.000Z",
        "msg_a",
        "I will write an idempotent migration.",
        300,
    );
    text += "garbage that is not json\n";
    text += &line(
        serde_json::json!({"type": "ai-title", "sessionId": s, "aiTitle": "Billing migration"}),
    );
    append(&api.join("b2.jsonl"), &text);
    let store = Store::open(&dir.path().join("paddock.db")).expect("store");
    Tree {
        _dir: dir,
        claude,
        codex,
        store,
    }
}

fn indexer(t: &Tree) -> HistoryIndexer {
    HistoryIndexer::new(t.store.clone(), Prices::default())
        .with_claude(t.claude.clone())
        .with_codex(t.codex.clone())
}

#[test]
fn every_session_is_listed_with_its_title_prompt_model_tokens_and_cost() {
    let t = tree();
    let report = indexer(&t).index_all().expect("index");
    assert_eq!((report.files, report.files_read, report.failed), (2, 2, 0));
    let sessions = t
        .store
        .history_sessions(&HistoryQuery::default())
        .expect("list");
    assert_eq!(sessions.len(), 2);
    // The most recently ended first: the sample (2026-11-21) before b2 (2026-11-20).
    let real = &sessions[0];
    assert_eq!(
        real.session_id.as_deref(),
        Some("63a89093-4ee6-447d-b5e0-c1488233b86a")
    );
    assert_eq!(real.title.as_deref(), Some("please make a file"));
    assert_eq!(real.first_prompt.as_deref(), Some("please make a file"));
    assert_eq!(real.last_prompt.as_deref(), Some("please make a file now"));
    assert_eq!(real.cwd.as_deref(), Some("/home/dev/app"));
    assert_eq!(real.model.as_deref(), Some("claude-opus-5-5"));
    assert_eq!(
        (
            real.tokens_in,
            real.tokens_out,
            real.responses,
            real.prompts
        ),
        (36, 21, 3, 2)
    );
    assert_eq!(
        real.cost_usd, 0.0005639999999999999,
        "the CLI's own cost-state"
    );
    let b2 = &sessions[1];
    assert_eq!(b2.title.as_deref(), Some("Billing migration"));
    assert_eq!(b2.git_branch.as_deref(), Some("main"));
    assert_eq!((b2.tokens_in, b2.tokens_out, b2.responses), (1000, 300, 1));
    // Haiku 4.5: 1000 × $1 + 300 × $5 per million.
    assert!((b2.cost_usd - 0.0025).abs() < 1e-12, "{}", b2.cost_usd);
    assert_eq!(b2.started_ms, Some(1_795_165_200_000));

    let hits = t
        .store
        .search_history("idempotent migration", 10)
        .expect("search");
    assert_eq!(
        hits.len(),
        2,
        "the response's two lines both carry the text: {hits:?}"
    );
    assert!(hits
        .iter()
        .all(|h| h.session_id.as_deref() == Some("b2") && h.role == "assistant"));
    let hits = t
        .store
        .search_history("billing postgres", 10)
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].role, "user");
    assert_eq!(
        hits[0].snippet,
        "migrate the \u{2}billing\u{3} tables to \u{2}postgres\u{3}"
    );
    // The sample answers "Hello from the mock model." twice (its third response is the Bash call).
    assert_eq!(
        t.store
            .search_history("mock model", 10)
            .expect("search")
            .len(),
        2
    );
}

#[test]
fn a_second_pass_reads_only_what_was_appended_and_forgets_deleted_files() {
    let t = tree();
    let ix = indexer(&t);
    let first = ix.index_all().expect("index");
    let again = ix.index_all().expect("index");
    assert_eq!(
        (again.files_read, again.bytes),
        (0, 0),
        "nothing new, nothing read"
    );
    let b2 = t.claude.projects().join("-home-dev-api").join("b2.jsonl");
    let more = prompt(
        "b2",
        "2026-11-20T10:00:00.000Z",
        "now add an index on invoices",
    ) + &answer("b2", "2026-11-20T10:00:05.000Z", "msg_b", "Added.", 10);
    append(&b2, &more);
    let third = ix.index_all().expect("index");
    assert_eq!(third.files_read, 1);
    assert_eq!(third.bytes, more.len() as u64);
    assert!(first.bytes > third.bytes);
    let s = t
        .store
        .history_session(&b2.to_string_lossy())
        .expect("read")
        .expect("row");
    assert_eq!(
        (s.tokens_in, s.tokens_out, s.responses, s.prompts),
        (2000, 310, 2, 2)
    );
    assert_eq!(
        s.last_prompt.as_deref(),
        Some("now add an index on invoices")
    );
    assert_eq!(
        t.store
            .search_history("invoices", 10)
            .expect("search")
            .len(),
        1
    );
    // A fresh indexer (a restarted supervisor) resumes from the saved cursors too.
    let restarted = indexer(&t).index_all().expect("index");
    assert_eq!(restarted.bytes, 0);

    std::fs::remove_file(&b2).expect("rm");
    let r = ix.index_all().expect("index");
    assert_eq!(r.removed, 1);
    assert!(t
        .store
        .search_history("invoices", 10)
        .expect("search")
        .is_empty());
    assert_eq!(
        t.store
            .history_sessions(&HistoryQuery::default())
            .expect("list")
            .len(),
        1
    );
}

#[test]
fn a_rewritten_transcript_replaces_its_indexed_text() {
    let t = tree();
    let ix = indexer(&t);
    ix.index_all().expect("index");
    let b2 = t.claude.projects().join("-home-dev-api").join("b2.jsonl");
    std::fs::write(
        &b2,
        prompt("b2", "2026-11-20T11:00:00.000Z", "write the changelog"),
    )
    .expect("rewrite");
    let r = ix.index_all().expect("index");
    assert_eq!(r.resets, 1);
    assert!(t
        .store
        .search_history("billing", 10)
        .expect("search")
        .is_empty());
    assert_eq!(
        t.store
            .search_history("changelog", 10)
            .expect("search")
            .len(),
        1
    );
    let s = t
        .store
        .history_session(&b2.to_string_lossy())
        .expect("read")
        .expect("row");
    assert_eq!((s.tokens_in, s.prompts), (0, 1));
}

#[test]
fn codex_rollouts_are_in_the_history_too() {
    let t = tree();
    let day = t.codex.sessions().join("2026/11/21");
    std::fs::create_dir_all(&day).expect("mkdir");
    let rollout = day.join("rollout-2026-11-21T10-00-00-c0ffee.jsonl");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/codex-rollout-synthetic.jsonl"),
        &rollout,
    )
    .expect("copy");
    indexer(&t).index_all().expect("index");
    let s = t
        .store
        .history_sessions(&HistoryQuery {
            agent: Some("codex".into()),
            ..HistoryQuery::default()
        })
        .expect("list");
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].first_prompt.as_deref(),
        Some("create hello.txt saying hi")
    );
    assert_eq!(s[0].model.as_deref(), Some("gpt-5-codex"));
    assert_eq!(
        t.store
            .search_history("hello.txt", 10)
            .expect("search")
            .len(),
        2
    );
}

#[test]
fn the_watcher_tells_of_an_appended_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("live.jsonl");
    append(&path, "{}\n");
    let (tx, rx) = mpsc::channel();
    let w = TranscriptWatcher::start(Duration::from_millis(20), move |p| {
        let _ = tx.send(p.to_owned());
    })
    .expect("start");
    w.watch(&path);
    // First sight of an existing file.
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).expect("first"),
        path
    );
    append(&path, "{\"type\":\"user\"}\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    let got = rx
        .recv_timeout(deadline - Instant::now())
        .expect("a change is reported");
    assert_eq!(got, path);
    w.unwatch(&path);
    append(&path, "{}\n");
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "unwatched files are not reported"
    );
}

#[test]
fn a_codex_rollout_shows_its_task_tools_files_and_tokens() {
    use paddock_agents::{AgentKind, LiveTranscript};
    use paddock_proto::insight::ActionStatus;
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/codex-rollout-synthetic.jsonl");
    let mut live = LiveTranscript::open(&AgentKind::Codex, &path, None).expect("open");
    live.poll().expect("poll");
    let i = live.insight(&Prices::default());
    assert_eq!(i.agent_session_id.as_deref(), Some("c0ffee"));
    assert_eq!(
        i.current_task.as_deref(),
        Some("create hello.txt saying hi")
    );
    assert_eq!(i.prompts, 1, "the environment context is not a prompt");
    assert_eq!(i.git_branch.as_deref(), Some("main"));
    let actions: Vec<(&str, &str, ActionStatus, Option<u64>)> = i
        .recent_actions
        .iter()
        .map(|a| {
            (
                a.tool.as_str(),
                a.input_summary.as_str(),
                a.status,
                a.duration_ms,
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (
                "shell",
                "echo hi > hello.txt",
                ActionStatus::Succeeded,
                Some(400)
            ),
            ("apply_patch", "hello.txt", ActionStatus::Succeeded, Some(0)),
            ("shell", "cat missing.txt", ActionStatus::Failed, Some(100)),
        ]
    );
    assert_eq!(
        i.recent_actions[2].error.as_deref(),
        Some("exit code 1: cat: missing.txt: No such file or directory")
    );
    assert_eq!(i.files_modified.len(), 1);
    assert_eq!(
        (
            i.files_modified[0].path.as_str(),
            i.files_modified[0].lines_added,
            i.files_modified[0].lines_removed
        ),
        ("hello.txt", 1, 1)
    );
    // The latest running totals: 8000 in of which 5000 cached, 200 out.
    assert_eq!(
        (i.tokens.input, i.tokens.cache_read, i.tokens.output),
        (3000, 5000, 200)
    );
    // gpt-5-codex priced as gpt-5: 3000 × 1.25 + 5000 × 0.125 + 200 × 10 per million.
    assert!(
        (i.cost.estimated_usd - 0.006375).abs() < 1e-12,
        "{:?}",
        i.cost
    );
    assert_eq!(i.responses, 1, "one completed turn");
    assert_eq!(
        live.turn_active(),
        Some(false),
        "task_complete closed the turn"
    );
    assert_eq!(
        i.thinking.current_reasoning.as_deref(),
        Some("**Creating the file** A shell redirect is simplest.")
    );
}
