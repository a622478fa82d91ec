//! Sessions over REST: started, listed, messaged, their stored logs and the environment a
//! session started over REST gets.

use crate::common::{wait_until, Env};
use crate::web::{next_json, relaxed, send, up, up_env, Web};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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
    // It says when its terminal stopped echoing: text typed before that would echo.
    let deaf = env.run(
        &["--name", "deaf"],
        &["sh", "-c", "stty -echo; echo deaf-now; exec sleep 600"],
    );
    wait_until(
        "the deaf program to stop echoing",
        Duration::from_secs(10),
        || env.ok(&["logs", &deaf]).contains("deaf-now"),
    );
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
