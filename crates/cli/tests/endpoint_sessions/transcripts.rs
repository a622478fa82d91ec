//! What the agents said: a session's raw transcript, its conversation a page of turns at a
//! time and live, and the history of past sessions.

use crate::common::{wait_until, Env, Supervisor};
use crate::web;
use crate::web::{next_json_of, relaxed, send, up_env, Web};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A viewer of a `paddock up` whose HOME is in the test's directory, with a session (`cat`)
/// the supervisor knows; the folder of Claude Code's projects there (transcripts are
/// followed only inside the agents' own folders).
struct Transcripts {
    _sup: Supervisor,
    web: Web,
    projects: std::path::PathBuf,
    token: String,
    id: String,
}

impl Transcripts {
    async fn start(env: &Env) -> Self {
        let home = env.dir().join("home");
        let projects = home.join(".claude/projects/-work-app");
        std::fs::create_dir_all(&projects).expect("projects folder");
        let home = home.display().to_string();
        let mut vars = relaxed().to_vec();
        vars.push(("HOME", &home));
        let sup = up_env(env, &vars);
        let web = Web::of(env);
        let token = web.token(env, "viewer").await;
        let id = env.run(&[], &["cat"]);
        wait_until(
            "the supervisor knows the session",
            Duration::from_secs(10),
            || env.ok(&["ls", "--json"]).contains(&id),
        );
        Self {
            _sup: sup,
            web,
            projects,
            token,
            id,
        }
    }

    /// `GET url` as the viewer.
    async fn get(&self, url: &str) -> web::Reply {
        self.web.call("GET", url, Some(&self.token), None).await
    }

    /// Asserts `url` answers 404 saying the session has no transcript yet.
    async fn assert_none_yet(&self, url: &str) {
        let none = self.get(url).await;
        assert_eq!(none.status, 404, "no transcript yet: {}", none.body);
        assert!(
            none.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("no transcript")),
            "{}",
            none.body
        );
    }

    /// `GET url` once the session follows its transcript (within 10 s): the body.
    async fn followed(&self, url: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.get(url).await;
            if r.status == 200 {
                return r.body;
            }
            assert!(
                Instant::now() < deadline,
                "never followed: {} {}",
                r.status,
                r.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn a_sessions_raw_transcript_is_read_by_tail_and_followed_by_offset() {
    use std::io::Write;
    let env = Env::new();
    let t = Transcripts::start(&env).await;
    let id = &t.id;
    let url = format!("/api/v1/sessions/{id}/transcript");
    t.assert_none_yet(&url).await;

    // Claude Code names its transcript in every hook; this is how the session learns it.
    let path = t.projects.join("session.jsonl");
    let first = r#"{"type":"user","message":{"role":"user","content":"fix the bug"},"uuid":"u1","timestamp":"2026-11-22T08:00:00Z"}"#;
    let second = r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Looking."}]},"uuid":"a1","timestamp":"2026-11-22T08:00:01Z"}"#;
    std::fs::write(&path, format!("{first}\n{second}\n")).expect("transcript");
    env.announce_transcript(id, &path, None);

    let page = t.followed(&url).await;
    assert_eq!(page["path"], path.display().to_string());
    let lines = page["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2, "{page}");
    assert_eq!(lines[0]["message"]["content"], "fix the bug");
    assert_eq!(page["next"], page["size"]);

    // Follow it: an appended line, and half of the next one, which waits for its newline.
    let third = r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Fixed."}]},"uuid":"a2"}"#;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("append");
    write!(f, "{third}\n{{\"type\":\"us").expect("append");
    let next = page["next"].as_u64().expect("next");
    let more = t.get(&format!("{url}?after={next}")).await;
    assert_eq!(more.status, 200, "{}", more.body);
    let lines = more.body["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1, "{}", more.body);
    assert_eq!(lines[0]["uuid"], "a2");
    assert!(more.body["next"].as_u64() < more.body["size"].as_u64());
    let tail = t.get(&format!("{url}?limit=1")).await;
    assert_eq!(tail.body["lines"][0]["uuid"], "a2", "{}", tail.body);
    for bad in ["?limit=0", "?after=999999"] {
        let r = t.get(&format!("{url}{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[tokio::test]
async fn a_sessions_conversation_is_served_a_page_of_turns_at_a_time_and_live_over_the_socket() {
    use std::io::Write;
    let env = Env::new();
    let t = Transcripts::start(&env).await;
    let (web, token, id) = (&t.web, &t.token, &t.id);
    let url = format!("/api/v1/sessions/{id}/conversation");
    t.assert_none_yet(&url).await;

    // Five turns, each a prompt, a tool call with a long output and an answer.
    let path = t.projects.join("conversation.jsonl");
    let mut text = String::new();
    let long = "line of output\n".repeat(500);
    // Each turn's key: where its prompt's line ends.
    let mut keys = Vec::new();
    for n in 0..5 {
        text += &format!(
            "{}\n",
            json!({"type": "user", "timestamp": "2026-12-06T10:00:00Z",
            "message": {"role": "user", "content": format!("task {n}")}})
        );
        keys.push(text.len());
        text += &format!(
            "{}\n",
            json!({"type": "assistant", "timestamp": "2026-12-06T10:00:01Z",
            "message": {"id": format!("m{n}"), "model": "claude-sonnet-4-5", "usage": {"input_tokens": 1000, "output_tokens": 100},
            "content": [{"type": "tool_use", "id": format!("t{n}"), "name": "Bash", "input": {"command": format!("make {n}")}}]}})
        );
        text += &format!(
            "{}\n",
            json!({"type": "user", "timestamp": "2026-12-06T10:00:03Z",
            "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("t{n}"), "content": long}]}})
        );
        text += &format!(
            "{}\n",
            json!({"type": "assistant", "timestamp": "2026-12-06T10:00:04Z",
            "message": {"id": format!("m{n}b"), "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": format!("Done {n}. Shall I go on?")}]}})
        );
    }
    std::fs::write(&path, &text).expect("transcript");
    env.announce_transcript(id, &path, None);

    let page = t.followed(&format!("{url}?limit=2")).await;
    assert_eq!(page["agent"], "claude");
    assert_eq!(page["total"], 5);
    assert_eq!(page["older"], keys[3], "{page}");
    let turns = page["turns"].as_array().expect("turns");
    let prompts: Vec<&str> = turns.iter().filter_map(|t| t["prompt"].as_str()).collect();
    assert_eq!(prompts, ["task 3", "task 4"]);
    let t4 = &turns[1];
    assert_eq!(t4["question"], "Shall I go on?");
    assert_eq!(t4["cut"], true);
    let call = &t4["items"][0];
    assert_eq!(
        (call["kind"].as_str(), call["tool"].as_str()),
        (Some("tool"), Some("Bash"))
    );
    assert_eq!(call["summary"], "make 4");
    assert_eq!(call["status"], "succeeded");
    assert_eq!(call["duration_ms"], 2000);
    assert_eq!(call["output_chars"], long.chars().count());
    assert!(
        t4["cost_usd"].as_f64().is_some_and(|c| c > 0.0),
        "priced: {t4}"
    );
    let older = t.get(&format!("{url}?limit=2&before={}", keys[3])).await;
    let prompts: Vec<&str> = older.body["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .filter_map(|t| t["prompt"].as_str())
        .collect();
    assert_eq!(prompts, ["task 1", "task 2"]);
    assert_eq!(older.body["older"], keys[1]);
    let whole = t.get(&format!("{url}/turns/{}", keys[4])).await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    assert_eq!(whole.body["items"][0]["output"], long.as_str());
    assert_eq!(whole.body["cut"], false);
    for (bad, status) in [
        ("?limit=0", 400),
        ("?limit=201", 400),
        ("/turns/9", 404),
        ("/turns/x", 400),
    ] {
        let r = t.get(&format!("{url}{bad}")).await;
        assert_eq!(r.status, status, "{bad}: {}", r.body);
        assert!(r.body["error"]["message"].is_string(), "{bad}: {}", r.body);
    }

    // Live: a new prompt and an answer appended reach an open socket as conversation updates.
    let mut ws = web.ws(Some(token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("append");
    let prompt = json!({"type": "user", "message": {"role": "user", "content": "task 5"}});
    writeln!(f, "{prompt}").expect("append");
    let key5 = text.len() + prompt.to_string().len() + 1;
    writeln!(f, "{}", json!({"type": "assistant", "message": {"id": "m5", "content": [{"type": "text", "text": "On it."}]}})).expect("append");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = next_json_of(&mut ws, &["conversation_update"]).await["payload"].take();
        assert_eq!(m["id"], id.as_str());
        let turn = m["turns"]
            .as_array()
            .and_then(|t| t.last())
            .cloned()
            .unwrap_or_default();
        if turn["prompt"] == "task 5" && turn["items"][0]["text"] == "On it." {
            assert_eq!(m["total"], 6);
            assert_eq!(turn["index"], key5);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no update with the new turn: {m}"
        );
    }
}

/// A Claude Code prompt line as the CLI writes it (the fields the history reads).
fn claude_prompt(session: &str, ts: &str, text: &str) -> String {
    format!(
        "{}\n",
        json!({"type": "user", "sessionId": session, "timestamp": ts,
        "cwd": "/home/dev/api", "gitBranch": "main",
        "message": {"role": "user", "content": text}})
    )
}

#[tokio::test]
async fn the_history_lists_past_sessions_newest_first_and_searches_what_was_said() {
    let env = Env::new();
    let home = tempfile::tempdir().expect("home");
    let projects = home.path().join(".claude/projects");
    let app = projects.join("-home-dev-app");
    let api = projects.join("-home-dev-api");
    std::fs::create_dir_all(&app).expect("projects");
    std::fs::create_dir_all(&api).expect("projects");
    // The real Claude Code 2.1.328 sample (ended 2026-11-21) and an older session (2026-11-20).
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../agents/tests/data/claude-transcript-2.1.328.jsonl"
        ),
        app.join("63a89093-4ee6-447d-b5e0-c1488233b86a.jsonl"),
    )
    .expect("copy the sample transcript");
    std::fs::write(
        api.join("b2.jsonl"),
        claude_prompt(
            "b2",
            "2026-11-20T09:00:00.000Z",
            "migrate the billing tables to postgres (see db/schema[v2].sql)",
        ),
    )
    .expect("write a session");
    let home_var = home.path().display().to_string();
    let mut vars = relaxed().to_vec();
    vars.push(("HOME", &home_var));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let token = web.token(&env, "viewer").await;
    let get = |q: String| {
        let web = &web;
        let token = token.clone();
        async move {
            web.call("GET", &format!("/api/v1/history{q}"), Some(&token), None)
                .await
        }
    };

    // The list: both sessions once indexed, the most recently ended first.
    let deadline = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let r = get(String::new()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["sessions"].as_array().is_some_and(|s| s.len() == 2) {
            break r.body;
        }
        assert!(Instant::now() < deadline, "never indexed: {}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(list["kind"], "sessions", "{list}");
    assert_eq!(list["next_offset"], Value::Null, "one page holds both");
    let sessions = list["sessions"].as_array().expect("sessions");
    assert_eq!(
        sessions[0]["session_id"], "63a89093-4ee6-447d-b5e0-c1488233b86a",
        "the newest first: {list}"
    );
    assert_eq!(sessions[0]["cwd"], "/home/dev/app");
    assert_eq!(sessions[1]["session_id"], "b2");
    assert_eq!(sessions[1]["git_branch"], "main");
    assert!(sessions[1]["first_prompt"]
        .as_str()
        .is_some_and(|p| p.starts_with("migrate the billing")));

    // Paging: one a page, then the rest.
    let first = get("?limit=1".into()).await.body;
    assert_eq!(first["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["next_offset"], 1, "{first}");
    let second = get("?limit=1&offset=1".into()).await.body;
    assert_eq!(second["sessions"][0]["session_id"], "b2", "{second}");
    assert_eq!(second["next_offset"], Value::Null);
    let only_api = get("?cwd=/home/dev/api".into()).await.body;
    assert_eq!(
        only_api["sessions"].as_array().map(Vec::len),
        Some(1),
        "{only_api}"
    );

    // A search finds a prompt's words, the terms marked (never confused with the text's own
    // brackets); a file name with a dot is taken literally.
    let found = get("?q=postgres%20billing".into()).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["kind"], "hits");
    assert_eq!(found.body["query"], "postgres billing");
    let hits = found.body["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{}", found.body);
    assert_eq!(hits[0]["session_id"], "b2");
    assert_eq!(hits[0]["role"], "user");
    assert_eq!(
        hits[0]["snippet"],
        "migrate the \u{2}billing\u{3} tables to \u{2}postgres\u{3} (see db/schema[v2].sql)"
    );
    let phrase = get("?q=%22billing%20tables%22%20schema*".into()).await;
    assert_eq!(
        phrase.body["hits"].as_array().map(Vec::len),
        Some(1),
        "{}",
        phrase.body
    );

    // No hit: an empty page, not an error.
    let none = get("?q=zebracorn".into()).await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.body["kind"], "hits");
    assert_eq!(none.body["hits"], json!([]));

    // A search the engine cannot read, and bad bounds: 400 with a message for people.
    let bad = get("?q=%22billing%20tables".into()).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.body["error"]["code"], "bad_request");
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("closing")),
        "{}",
        bad.body
    );
    for q in ["?limit=0", "?limit=501", "?limit=-1", "?q=x&agent=claude"] {
        let r = get(q.into()).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.body["error"]["message"].is_string(), "{q}: {}", r.body);
    }
    assert_eq!(get("?limit=500".into()).await.status, 200);
}
