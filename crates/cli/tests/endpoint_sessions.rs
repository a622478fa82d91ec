//! The endpoint of a real `paddock up`, its sessions: real holders with real PTYs behind
//! REST and WSS, started and messaged over REST, their stored logs, raw transcripts,
//! conversations and history, the event and terminal streams (resumed through a flood).
//! Access (TLS, pairing, roles, limits) is in endpoint.rs.

mod common;
#[path = "common/web.rs"]
mod web;

use common::{numbered_lines, wait_until, Env, Supervisor};
use futures_util::StreamExt;
use paddock_proto::web::{ServerMessage, TerminalFrame};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use web::{next_json, next_json_of, relaxed, send, up, up_env, Web};

#[tokio::test]
async fn an_operator_starts_a_session_over_rest_and_reads_the_stored_log() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let cwd = env.dir().join("project");
    std::fs::create_dir_all(&cwd).expect("project dir");
    let body = json!({
        "command": ["sh", "-c", "echo \"started in $(pwd) as $GREETING\"; exec cat"],
        "name": "from-phone",
        "cwd": cwd.display().to_string(),
        "env": {"GREETING": "hello"},
        "size": {"cols": 100, "rows": 30},
    });
    let r = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "from-phone");
    let id = r.body["id"].as_str().expect("id").to_owned();
    // It is an ordinary held session: the CLI lists it and reads its output.
    assert!(env.ls().iter().any(|s| s["id"] == id.as_str()));
    let want = format!("started in {} as hello", cwd.display());
    wait_until("the program printed", Duration::from_secs(10), || {
        env.ok(&["logs", &id]).contains(&want)
    });
    assert_eq!(env.meta(&id).size.cols, 100);

    // A taken name names its owner; a missing program gets the holder's reason; both 400.
    let again = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body))
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    let msg = again.body["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("already exists") && msg.contains(&id), "{msg}");
    let missing = web
        .call(
            "POST",
            "/api/v1/sessions",
            Some(&token),
            Some(json!({"command": ["no-such-program-xyz"], "cwd": "/"})),
        )
        .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    let msg = missing.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(msg.contains("no-such-program-xyz"), "{msg}");
    for bad in [json!({"command": []}), json!({"command": "sh"}), json!({})] {
        let r = web
            .call("POST", "/api/v1/sessions", Some(&token), Some(bad.clone()))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }

    // The stored activity log has the session's lines, newest first, and pages by id.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = format!("/api/v1/system/logs?session={id}&limit=50");
        let r = web.call("GET", &url, Some(&token), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let mine = r.body.as_array().expect("entries");
        if !mine.is_empty() {
            assert!(mine.iter().all(|e| e["session"] == id.as_str()), "{mine:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the session's state changes never reached the stored log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = web
        .call("GET", "/api/v1/system/logs?limit=1000", Some(&token), None)
        .await;
    let entries = all.body.as_array().expect("entries");
    let ids: Vec<i64> = entries.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    if let Some(last) = ids.get(ids.len() / 2) {
        let page = web
            .call(
                "GET",
                &format!("/api/v1/system/logs?before={last}&limit=1000"),
                Some(&token),
                None,
            )
            .await;
        let older: Vec<i64> = page
            .body
            .as_array()
            .expect("page")
            .iter()
            .filter_map(|e| e["id"].as_i64())
            .collect();
        assert!(
            !older.is_empty() && older.iter().all(|i| i < last),
            "{older:?}"
        );
    }
    // Its process tree, as the supervisor samples it each second: the shell (the root) and
    // the `sleep` it started, whose parent it is.
    let pid = env.meta(&id).pid;
    let child = web
        .call(
            "POST",
            "/api/v1/sessions",
            Some(&token),
            Some(json!({"command": ["sh", "-c", "sleep 600 & wait"], "cwd": "/", "name": "tree"})),
        )
        .await;
    assert_eq!(child.status, 201, "{}", child.body);
    let tree_id = child.body["id"].as_str().expect("id").to_owned();
    let tree_pid = child.body["pid"].as_u64().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    let procs = loop {
        let r = web
            .call(
                "GET",
                &format!("/api/v1/processes?session={tree_id}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.body.as_array().cloned().unwrap_or_default();
        if list.len() >= 2 {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "the tree was never sampled: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        procs[0]["pid"].as_u64(),
        Some(tree_pid),
        "root first: {procs:?}"
    );
    assert!(procs.iter().all(|p| p["session"] == tree_id.as_str()));
    assert!(
        procs.iter().any(|p| p["name"] == "sleep"
            && p["ppid"].as_u64() == Some(tree_pid)
            && p["command"] == json!(["sleep", "600"])),
        "{procs:?}"
    );
    // All sessions' processes together, and refusals for unknown or malformed sessions.
    let all = web
        .call("GET", "/api/v1/processes", Some(&token), None)
        .await;
    let all = all.body.as_array().expect("processes");
    assert!(
        all.iter()
            .any(|p| p["pid"].as_u64() == Some(u64::from(pid))),
        "{all:?}"
    );
    let unknown = web
        .call(
            "GET",
            "/api/v1/processes?session=zzzzzzzz",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let bad = web
        .call("GET", "/api/v1/system/logs?level=loud", Some(&token), None)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The start is audited with who did it.
    let admin = web.token(&env, "admin").await;
    let audit = web
        .call("GET", "/api/v1/audit?limit=100", Some(&admin), None)
        .await;
    let starts: Vec<&Value> = audit
        .body
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["action"] == "session.start")
        .collect();
    assert!(starts.iter().any(|e| e["result"] == "ok"), "{starts:?}");
    assert!(starts.iter().filter(|e| e["result"] == "failed").count() >= 2);
}

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

#[tokio::test]
async fn events_and_a_terminal_stream_over_wss() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let mut ws = web.ws(Some(&token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await.expect("resync")["type"], "resync");
    let id = env.run(&["--name", "echoer"], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    let started = Instant::now();
    loop {
        let m = next_json(&mut ws).await.expect("event");
        if m["type"] == "session_update" && m["payload"]["session"]["id"] == id.as_str() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no session_update"
        );
    }
    send(
        &mut ws,
        json!({"type": "attach", "session": id, "size": {"cols": 80, "rows": 24}}),
    )
    .await;
    let a = next_json_of(&mut ws, &["attached"]).await;
    assert_eq!(a["writable"], true);
    send(
        &mut ws,
        json!({"type": "input", "session": id, "data": "hello over wss\r"}),
    )
    .await;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&out)
        .matches("hello over wss")
        .count()
        .ge(&2)
    {
        assert!(
            Instant::now() < deadline,
            "echo never came: {}",
            String::from_utf8_lossy(&out)
        );
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match TerminalFrame::decode(&b).expect("frame") {
                TerminalFrame::Output { data, .. } | TerminalFrame::Snapshot { data, .. } => {
                    out.extend_from_slice(&data)
                }
            },
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
    // The ServerMessage type decodes what the server sends.
    let _: ServerMessage = serde_json::from_value(a).expect("attached decodes");
}

#[tokio::test]
async fn a_thousand_wss_disconnect_resume_cycles_during_a_flood_lose_and_double_nothing() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "viewer").await;
    let stop = env.dir().join("stop-flood");
    // Lines as fast as sh can write them, with a 10 ms breath every 500 lines: on a busy
    // 2-core machine an unbroken flood starved the holder's hello for more than 5 s, again
    // and again; the cycles still all happen while output pours in.
    let script = format!(
        "read go; i=0; while [ ! -e {} ]; do echo $i; i=$((i+1)); [ $((i % 500)) -ne 0 ] || sleep 0.01; done; echo END; read x",
        stop.display()
    );
    let id = env.run(&["--ring", "256M"], &["sh", "-c", &script]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    env.ok(&["send", &id, "--enter", ""]);
    let mut all: Vec<u8> = Vec::new();
    let mut offset = 0u64;
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut cycles_in_flood = 0;
    let mut cycles = 0;
    let mut started_at: Option<u64> = None;
    let mut retries = 0;
    loop {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut ws = web.ws(Some(&token)).await;
        send(
            &mut ws,
            json!({"type": "attach", "session": id, "offset": offset}),
        )
        .await;
        let a = next_json_of(&mut ws, &["attached", "error"]).await;
        if a["type"] == "error" {
            // A holder slow to answer (a loaded machine, mid-flood) is like a failed
            // reconnect: the client tries again from the same offset.
            assert_eq!(a["code"], "unavailable", "cycle {cycles}: {a}");
            retries += 1;
            assert!(retries <= 50, "too many failed attaches: {a}");
            continue;
        }
        assert_eq!(
            (a["snapshot"].as_bool(), a["gap"].as_bool()),
            (Some(false), Some(false)),
            "cycle {cycles}: {a}"
        );
        assert_eq!(
            a["offset"].as_u64(),
            Some(offset),
            "cycle {cycles} resumes where it left"
        );
        let ended = all.ends_with(b"END\r\n");
        if ended {
            break;
        }
        cycles_in_flood += 1;
        if cycles_in_flood == 1000 {
            std::fs::write(&stop, b"").expect("stop file");
        }
        let frames = 1 + seed % 4;
        let mut got = 0;
        while got < frames {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => match TerminalFrame::decode(&b).expect("frame")
                {
                    TerminalFrame::Output {
                        offset: o, data, ..
                    } => {
                        assert_eq!(
                            o, offset,
                            "cycle {cycles}: a byte lost or doubled at the seam"
                        );
                        started_at.get_or_insert(o);
                        offset += data.len() as u64;
                        all.extend_from_slice(&data);
                        got += 1;
                    }
                    TerminalFrame::Snapshot { .. } => {
                        panic!("cycle {cycles}: resynced by a snapshot")
                    }
                },
                Ok(Some(Ok(Message::Text(t)))) => {
                    let m: Value = serde_json::from_str(&t).expect("json");
                    assert_ne!(m["type"], "lagged", "cycle {cycles}: {m}");
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
            if all.ends_with(b"END\r\n") {
                break;
            }
        }
        // Cut without a goodbye half the time, like a phone losing its network.
        if seed.is_multiple_of(2) {
            let _ = ws.close(None).await;
        }
        drop(ws);
        cycles += 1;
        assert!(cycles < 100_000, "the flood never finished");
    }
    let (text, expected) = numbered_lines(all);
    assert!(text.ends_with("\r\nEND\r\n"));
    assert!(expected > 1000, "a real flood: {expected} lines");
    assert!(
        cycles_in_flood >= 1000,
        "{cycles_in_flood} cycles during the flood"
    );
    assert_eq!(started_at, Some(0));
}

#[tokio::test]
async fn a_session_from_paddock_run_is_in_the_very_next_rest_list_and_on_the_event_stream() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "viewer").await;
    let mut ws = web.ws(Some(&token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await.expect("resync")["type"], "resync");
    for i in 0..3 {
        let id = env.run(&["--name", &format!("r{i}")], &["sleep", "600"]);
        let r = web
            .call("GET", "/api/v1/sessions", Some(&token), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body
                .as_array()
                .is_some_and(|all| all.iter().any(|s| s["id"] == id.as_str())),
            "{id} is missing from the REST list right after `paddock run`: {}",
            r.body
        );
        // The UI learns of it from the event already published.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = tokio::time::timeout_at(deadline.into(), next_json(&mut ws))
                .await
                .expect("a session_update for the new session")
                .expect("event");
            if m["type"] == "session_update" && m["payload"]["session"]["id"] == id.as_str() {
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_message_over_rest_says_whether_the_agent_took_it() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let id = env.run(&["--name", "reader"], &["cat"]);
    let r = web
        .call(
            "POST",
            &format!("/api/v1/sessions/{id}/message"),
            Some(&token),
            Some(json!({"text": "hello over rest"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["outcome"], "submitted", "{}", r.body);
    assert_eq!(r.body["session"]["id"], id.as_str(), "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reader took the message")),
        "{}",
        r.body
    );
    // The wait is the caller's: a program that shows nothing is `unknown` after it, with
    // what was seen; a wait out of range is a 400 that gives the range.
    let deaf = env.run(&["--name", "deaf"], &["sh", "-c", "stty -echo; sleep 600"]);
    let post = |id: String, body: serde_json::Value| {
        let web = &web;
        let token = &token;
        async move {
            web.call(
                "POST",
                &format!("/api/v1/sessions/{id}/message"),
                Some(token),
                Some(body),
            )
            .await
        }
    };
    let r = post(deaf.clone(), json!({"text": "hello", "timeout_ms": 800})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["outcome"], "unknown", "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("within 0.8 s") && d.contains("never showed")),
        "{}",
        r.body
    );
    let r = post(deaf, json!({"text": "hello", "timeout_ms": 600_001})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Typed as is to a shell (what `paddock send --enter` does): submitted once it ran.
    let sh = env.run(
        &["--name", "sh"],
        &["env", "PS1=ready$ ", "bash", "--norc", "--noprofile", "-i"],
    );
    wait_until("bash's prompt", Duration::from_secs(20), || {
        env.ok(&["logs", &sh]).contains("ready$")
    });
    let r = post(sh, json!({"text": "echo over-$((1 + 1))", "typed": true})).await;
    assert_eq!(r.body["outcome"], "submitted", "{}", r.body);
}

#[tokio::test]
async fn a_session_started_over_rest_gets_what_only_the_owners_login_shell_sets() {
    let env = Env::new();
    let home = env.dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(
        home.join(".bash_profile"),
        "echo 'a profile that talks'\nexport ONLY_IN_LOGIN=from-the-profile\nexport SHARED=from-the-profile\n",
    )
    .expect("profile");
    assert!(std::env::var_os("ONLY_IN_LOGIN").is_none());
    let mut vars = relaxed().to_vec();
    let home_s = home.display().to_string();
    vars.extend([
        ("HOME", home_s.as_str()),
        ("SHELL", "/bin/bash"),
        ("PADDOCK_AGENTS__LOGIN_ENV", "true"),
    ]);
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let token = web.token(&env, "operator").await;
    let body = json!({
        "command": ["sh", "-c", "echo \"login=$ONLY_IN_LOGIN shared=$SHARED\"; exec cat"],
        "cwd": home_s,
        "env": {"SHARED": "from-the-request"},
    });
    let r = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let want = "login=from-the-profile shared=from-the-request";
    wait_until(
        "the session printed its variables",
        Duration::from_secs(10),
        || env.ok(&["logs", &id]).contains(want),
    );
}
