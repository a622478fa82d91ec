//! Paddock's MCP server in the agents' own configuration, checked with the real CLIs offline
//! (`scripts/install-agents.sh`; the sandboxes of `paddock-fakeapi`): `paddock mcp install`
//! shows in `claude mcp list` / `codex mcp list` (connected to a running supervisor) and
//! `uninstall` takes exactly it away; a session `paddock run` starts offers the model
//! Paddock's tools next to the owner's own servers, and `--no-mcp` leaves them out.

#[path = "common/claude.rs"]
mod claude;
mod common;

use common::*;
use paddock_fakeapi::agents::{self, ClaudeSandbox, CodexSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script};
use std::process::Command;
use std::time::Duration;

/// Generous: the CLIs are large programs and the machine is shared.
const T: Duration = Duration::from_secs(120);

/// `paddock mcp ACTION AGENT` in the sandbox's HOME; its stdout.
fn paddock_mcp(env: &Env, apply: impl Fn(&mut Command), action: &str, agent: &str) -> String {
    let mut cmd = env.cmd();
    apply(&mut cmd);
    let out = cmd
        .args(["mcp", action, agent])
        .output()
        .expect("paddock mcp");
    assert!(
        out.status.success(),
        "paddock mcp {action} {agent} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An agent CLI's `mcp list`, as the owner would run it, with the test's runtime directory.
fn mcp_list(env: &Env, bin: &std::path::Path, apply: impl Fn(&mut Command)) -> String {
    let mut cmd = Command::new(bin);
    apply(&mut cmd);
    let out = cmd
        .env("PADDOCK_RUNTIME_DIR", env.dir())
        .args(["mcp", "list"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("mcp list");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn install_puts_paddock_in_claude_codes_user_servers_and_uninstall_takes_exactly_it_away() {
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let env = Env::new();
    let _sup = env.up();
    let fake = FakeApi::start(Script::new()).expect("fake API");
    let sb = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    let config = sb.home().join(".claude.json");
    let before = std::fs::read_to_string(&config).expect("the sandbox's .claude.json");
    let apply = |c: &mut Command| sb.apply(c);

    let said = paddock_mcp(&env, apply, "install", "claude");
    assert!(
        said.contains("added") && said.contains(".claude.json"),
        "{said}"
    );
    let list = mcp_list(&env, &claude, apply);
    let row = list
        .lines()
        .find(|l| l.starts_with("paddock:"))
        .unwrap_or_else(|| panic!("`claude mcp list` does not show paddock:\n{list}"));
    assert!(row.contains(" mcp") && row.contains("Connected"), "{row}");

    let again = paddock_mcp(&env, apply, "install", "claude");
    assert!(again.contains("nothing changed"), "{again}");
    let said = paddock_mcp(&env, apply, "uninstall", "claude");
    assert!(said.contains("removed"), "{said}");
    let list = mcp_list(&env, &claude, apply);
    assert!(!list.contains("paddock"), "{list}");
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("read")).expect("json");
    let before: serde_json::Value = serde_json::from_str(&before).expect("json");
    // Claude Code itself may have noted things in the file; Paddock's entry is gone and the
    // owner's settings are as they were.
    assert_eq!(after["mcpServers"], serde_json::json!({}), "{after}");
    assert_eq!(
        after["hasCompletedOnboarding"],
        before["hasCompletedOnboarding"]
    );
    assert_eq!(
        after["customApiKeyResponses"],
        before["customApiKeyResponses"]
    );
    let none = paddock_mcp(&env, apply, "uninstall", "claude");
    assert!(none.contains("nothing changed"), "{none}");
}

#[test]
fn install_adds_an_mcp_servers_table_to_codex_keeping_the_owners_file() {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let env = Env::new();
    let _sup = env.up();
    let fake = FakeApi::start(Script::new()).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let config = sb.codex_home().join("config.toml");
    let before = std::fs::read_to_string(&config).expect("the sandbox's config.toml");
    let apply = |c: &mut Command| sb.apply(c);

    let said = paddock_mcp(&env, apply, "install", "codex");
    assert!(
        said.contains("added") && said.contains("config.toml"),
        "{said}"
    );
    let text = std::fs::read_to_string(&config).expect("read");
    assert!(
        text.starts_with(&before),
        "the owner's file changed:\n{text}"
    );
    let list = mcp_list(&env, &codex, apply);
    assert!(
        list.lines()
            .any(|l| l.starts_with("paddock ") && l.contains("enabled")),
        "`codex mcp list` does not show paddock:\n{list}"
    );
    let said = paddock_mcp(&env, apply, "uninstall", "codex");
    assert!(said.contains("removed"), "{said}");
    assert_eq!(std::fs::read_to_string(&config).expect("read"), before);
    let list = mcp_list(&env, &codex, apply);
    assert!(!list.contains("paddock"), "{list}");
}

/// The owner's own server: Paddock's relay again, under another name, so it really runs.
fn owner_server(name: &str) -> serde_json::Value {
    serde_json::json!({ name: {"type": "stdio", "command": PADDOCK, "args": ["mcp"]} })
}

/// The first request the fake API saw, as text (the tools offered to the model are in it,
/// loaded or deferred).
fn first_request(fake: &FakeApi) -> String {
    fake.wait_for("a model request offering tools", T, |r| {
        r.body.get("tools").is_some()
    })
    .body
    .to_string()
}

#[test]
fn a_claude_session_paddock_runs_offers_paddocks_tools_next_to_the_owners_servers() {
    let env = Env::new();
    let _sup = env.up();
    let run = |no_mcp: bool| {
        let fake = FakeApi::start(Script::new().then(Reply::text("Hello."))).expect("fake API");
        let sb = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
        // The owner's user-scope server and one given on the command line.
        let config = sb.home().join(".claude.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).expect("read")).expect("json");
        v["mcpServers"] = owner_server("mine");
        std::fs::write(&config, v.to_string()).expect("write");
        let theirs = sb.root().join("theirs.json");
        let given = serde_json::json!({ "mcpServers": owner_server("theirs") });
        std::fs::write(&theirs, given.to_string()).expect("write");
        let theirs = theirs.display().to_string();
        let run_args: &[&str] = if no_mcp { &["--no-mcp"] } else { &[] };
        claude::run_claude(
            &env,
            &sb,
            run_args,
            &["-p", "say hello", "--mcp-config", &theirs],
        );
        first_request(&fake)
    };
    let body = run(false);
    for tool in [
        "mcp__paddock__list_sessions",
        "mcp__mine__list_sessions",
        "mcp__theirs__list_sessions",
    ] {
        assert!(body.contains(tool), "the model was not offered {tool}");
    }
    let body = run(true);
    assert!(!body.contains("mcp__paddock__"), "--no-mcp still wired it");
    assert!(body.contains("mcp__mine__list_sessions"));
}

#[test]
fn a_codex_session_paddock_runs_offers_paddocks_tools_next_to_the_owners_servers() {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let env = Env::new();
    let _sup = env.up();
    let fake = FakeApi::start(Script::new().then(Reply::text("Hello."))).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let config = sb.codex_home().join("config.toml");
    let mut text = std::fs::read_to_string(&config).expect("read");
    text.push_str(&format!(
        "\n[mcp_servers.mine]\ncommand = {}\nargs = [\"mcp\"]\nenv = {{ PADDOCK_RUNTIME_DIR = {} }}\n",
        serde_json::Value::String(PADDOCK.to_owned()),
        serde_json::Value::String(env.dir().display().to_string()),
    ));
    std::fs::write(&config, text).expect("write");
    let mut cmd = env.cmd();
    sb.apply(&mut cmd);
    let out = cmd
        .args(["run", "--"])
        .arg(&codex)
        .args(["exec", "--skip-git-repo-check", "say hello"])
        .output()
        .expect("paddock run");
    assert!(
        out.status.success(),
        "paddock run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Codex offers each server's tools in a namespace named after it.
    let body = first_request(&fake);
    for server in ["mcp__paddock", "mcp__mine"] {
        assert!(
            body.contains(&format!(r#""type":"namespace","name":"{server}""#)),
            "the model was not offered the tools of {server}"
        );
    }
    assert!(body.contains(r#""name":"list_sessions""#));
}

#[path = "common/mcp_client.rs"]
mod mcp_client;

#[tokio::test]
async fn read_output_pages_through_the_ring_and_says_when_an_offset_fell_out() {
    use mcp_client::*;
    use serde_json::json;
    let env = Env::new();
    let _sup = env.up();
    // A 4 KiB ring: the coloured line and the first numbers leave it.
    let script = r#"printf '\033[31mred line\033[0m\n'; seq 1 3000; echo DONE; exec sleep 600"#;
    env.run(&["--name", "worker", "--ring", "4k"], &["sh", "-c", script]);
    let (_, c) = client_in_session(&env, "orch", &["--orchestrator"]).await;
    let deadline = tokio::time::Instant::now() + T;
    let tail = loop {
        let tail = ok(&c, "read_output", json!({"session": "worker"})).await;
        if tail["text"]
            .as_str()
            .is_some_and(|t| t.ends_with("2999\n3000\nDONE"))
        {
            break tail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw DONE: {tail}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (start, end) = (tail["ring_start"].as_u64(), tail["end"].as_u64());
    let (start, end) = (start.expect("ring_start"), end.expect("end"));
    assert!(start > 0 && end - start <= 4096, "{tail}");
    assert_eq!(tail["next_offset"], end);
    assert!(!tail["text"].as_str().unwrap_or("").contains('\u{1b}'));

    let gone = ok(
        &c,
        "read_output",
        json!({"session": "worker", "offset": 0, "max_bytes": 200}),
    )
    .await;
    assert_eq!(gone["fell_out"], true, "{gone}");
    assert_eq!(gone["offset"], start);
    assert!(
        gone["detail"]
            .as_str()
            .unwrap_or("")
            .contains("left the ring"),
        "{gone}"
    );
    let next = gone["next_offset"].as_u64().expect("next_offset");
    assert_eq!(next, start + 200);
    // Paging on continues exactly where the last page stopped, to the end.
    let mut all = String::new();
    let mut at = start;
    while at < end {
        let page = ok(
            &c,
            "read_output",
            json!({"session": "worker", "offset": at, "max_bytes": 1000, "raw": true}),
        )
        .await;
        all.push_str(page["text"].as_str().expect("text"));
        at = page["next_offset"].as_u64().expect("next_offset");
    }
    assert!(all.ends_with("2999\r\n3000\r\nDONE\r\n"), "{all}");

    env.run(
        &["--name", "colour"],
        &[
            "sh",
            "-c",
            r#"printf '\033[31mred line\033[0m\n'; exec sleep 600"#,
        ],
    );
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let raw = ok(&c, "read_output", json!({"session": "colour", "raw": true})).await;
        if raw["text"]
            .as_str()
            .is_some_and(|t| t.contains("\u{1b}[31mred line\u{1b}[0m"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw the raw line: {raw}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = ok(&c, "read_output", json!({"session": "colour"})).await;
    assert_eq!(text["text"], "red line", "{text}");

    let e = refused(
        &c,
        "read_output",
        json!({"session": "worker", "offset": end + 10}),
    )
    .await;
    assert!(e.contains("past the end"), "{e}");
    let e = refused(
        &c,
        "read_output",
        json!({"session": "worker", "max_bytes": 0}),
    )
    .await;
    assert!(e.contains("max_bytes"), "{e}");
    // An agent reads its own output only.
    let (_, agent) = client_in_session(&env, "agent", &[]).await;
    let e = refused(&agent, "read_output", json!({"session": "worker"})).await;
    assert!(e.contains("agent profile"), "{e}");
}

/// An MCP client that keeps the progress notifications it receives.
#[derive(Clone, Default)]
struct Progress(std::sync::Arc<std::sync::Mutex<Vec<rmcp::model::ProgressNotificationParam>>>);

impl rmcp::ClientHandler for Progress {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _: rmcp::service::NotificationContext<rmcp::RoleClient>,
    ) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push(params);
        }
    }
}

impl Progress {
    fn seen(&self) -> Vec<rmcp::model::ProgressNotificationParam> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[tokio::test]
async fn wait_for_reports_progress_while_it_waits_when_the_caller_asks() {
    use rmcp::model::CallToolRequestParams;
    use serde_json::json;
    let env = Env::new();
    let _sup = env.up();
    env.run(&["--name", "sleeper"], &["sh", "-c", "exec sleep 600"]);
    let progress = Progress::default();
    let (_, c) =
        mcp_client::client_in_session_with(&env, "orch", &["--orchestrator"], progress.clone())
            .await;
    let args = json!({"session": "sleeper", "states": ["exited"], "timeout_secs": 7});
    let serde_json::Value::Object(map) = args else {
        panic!("object")
    };
    // The SDK's client puts a progressToken of its own on every request.
    let params = CallToolRequestParams::new("wait_for").with_arguments(map);
    let r = c.call_tool(params).await.expect("wait_for");
    let out = r.structured_content.expect("structured content");
    assert_eq!(out["reached"], false, "{out}");
    let seen = progress.seen();
    assert!(
        seen.len() >= 2,
        "expected a report every 3 s over 7 s: {seen:?}"
    );
    for (i, p) in seen.iter().enumerate() {
        assert_eq!(
            p.progress_token, seen[0].progress_token,
            "one call, one token"
        );
        assert!(
            p.message
                .as_deref()
                .is_some_and(|m| m.contains("wait_for: still waiting")),
            "{p:?}"
        );
        if i > 0 {
            assert!(p.progress > seen[i - 1].progress, "{seen:?}");
        }
    }
}

/// A resource's text, or the error's message.
async fn read_resource(
    c: &rmcp::service::Peer<rmcp::RoleClient>,
    uri: &str,
) -> Result<String, String> {
    let r = c
        .read_resource(rmcp::model::ReadResourceRequestParams::new(uri))
        .await
        .map_err(|e| e.to_string())?;
    Ok(r.contents
        .iter()
        .map(|c| match c {
            rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
            other => panic!("{uri} is not text: {other:?}"),
        })
        .collect())
}

#[tokio::test]
async fn sessions_screens_and_transcripts_are_resources_within_the_callers_profile() {
    let env = Env::new();
    let _sup = env.up();
    let worker = env.run(
        &["--name", "worker"],
        &["sh", "-c", "echo hello-screen; exec sleep 600"],
    );
    // A real Claude Code turn, for a transcript.
    let fake =
        FakeApi::start(Script::new().then(Reply::text("Hello from the fake."))).expect("fake API");
    let sb = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
    claude::run_claude(&env, &sb, &["--name", "claude"], &["-p", "say hello"]);

    let (_, c) = mcp_client::client_in_session(&env, "orch", &["--orchestrator"]).await;
    let listed: Vec<String> = c
        .list_all_resources()
        .await
        .expect("resources/list")
        .into_iter()
        .map(|r| r.uri.clone())
        .collect();
    for kind in ["screen", "transcript"] {
        let uri = format!("paddock://sessions/{worker}/{kind}");
        assert!(listed.contains(&uri), "{uri} not in {listed:?}");
    }
    let templates: Vec<String> = c
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list")
        .into_iter()
        .map(|t| t.uri_template.clone())
        .collect();
    assert_eq!(
        templates,
        [
            "paddock://sessions/{session}/screen",
            "paddock://sessions/{session}/transcript"
        ]
    );
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let screen = read_resource(&c, "paddock://sessions/worker/screen").await;
        if screen
            .as_deref()
            .is_ok_and(|s| s.starts_with("hello-screen"))
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{screen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loop {
        let t = read_resource(&c, "paddock://sessions/claude/transcript").await;
        if let Ok(t) = &t {
            let page: serde_json::Value = serde_json::from_str(t).expect("transcript JSON");
            if page.to_string().contains("Hello from the fake.") {
                assert!(page.to_string().contains("say hello"), "{page}");
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "{t:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let e = read_resource(&c, "paddock://sessions/nobody/screen").await;
    assert!(e.as_ref().is_err_and(|e| e.contains("no session")), "{e:?}");
    let e = read_resource(&c, "paddock://elsewhere").await;
    assert!(
        e.as_ref().is_err_and(|e| e.contains("no resource")),
        "{e:?}"
    );

    // An agent sees and reads its own session only.
    let (own, agent) = mcp_client::client_in_session(&env, "agent", &[]).await;
    let listed: Vec<String> = agent
        .list_all_resources()
        .await
        .expect("resources/list")
        .into_iter()
        .map(|r| r.uri.clone())
        .collect();
    assert_eq!(
        listed,
        [
            format!("paddock://sessions/{own}/screen"),
            format!("paddock://sessions/{own}/transcript")
        ]
    );
    let e = read_resource(&agent, "paddock://sessions/worker/screen").await;
    assert!(
        e.as_ref().is_err_and(|e| e.contains("agent profile")),
        "{e:?}"
    );
}
