//! A stand-in for Codex's app-server: requests in the protocol's v1 words answered from
//! Paddock, and an app-server that dies under Codex's terminal UI.

use crate::common::*;
use crate::support::{CodexApp, T};
use serde_json::{json, Value};

// --- begin: Codex through its app-server (issue 15, item 2) ---

/// A stand-in app-server on `socket` (WebSocket over the unix socket, as Codex's): answers
/// `initialize` and `thread/loaded/list`, then sends each of `asks` (JSON-RPC requests), the
/// next once the previous one's reply came; the replies are passed on.
fn app_server_asking(
    socket: std::path::PathBuf,
    asks: Vec<Value>,
) -> std::sync::mpsc::Receiver<Value> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (tx, rx) = std::sync::mpsc::channel();
    let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind the socket");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::UnixListener::from_std(listener).expect("listener");
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let mut asks = asks.into_iter();
            while let Some(Ok(frame)) = ws.next().await {
                let Message::Text(text) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                let out = match v["method"].as_str() {
                    Some("initialize") => {
                        json!({"id": v["id"], "result": {"userAgent": "stand-in"}})
                    }
                    Some("thread/loaded/list") => {
                        let list = json!({"id": v["id"], "result": {"data": []}});
                        if ws.send(Message::text(list.to_string())).await.is_err() {
                            return;
                        }
                        match asks.next() {
                            Some(ask) => ask,
                            None => continue,
                        }
                    }
                    Some(_) => continue,
                    None => {
                        if tx.send(v).is_err() {
                            return;
                        }
                        match asks.next() {
                            Some(ask) => ask,
                            None => continue,
                        }
                    }
                };
                if ws.send(Message::text(out.to_string())).await.is_err() {
                    return;
                }
            }
        });
    });
    rx
}

#[test]
fn codex_v1_approvals_from_an_app_server_are_answered_from_paddock_in_their_own_words() {
    // The pinned Codex has no v1 conversation API left, so it never sends these offline:
    // schema-valid ones (`codex app-server generate-json-schema`) from a stand-in server on
    // a real socket, followed by the real supervisor.
    let env = Env::new();
    let _sup = env.up();
    let id = env.run(&["--name", "stand-in"], &["sleep", "300"]);
    env.wait_row(&id, "known to the supervisor", T, |_| true);
    let replies = app_server_asking(
        env.dir().join(format!("{id}.codex-app-server")),
        vec![
            json!({"id": "v1-exec", "method": "execCommandApproval", "params": {
                "conversationId": "c1", "callId": "call_1", "cwd": "/p", "parsedCmd": [],
                "command": ["/bin/bash", "-lc", "rm -rf build"], "reason": "Clean the build?"}}),
            json!({"id": 7, "method": "applyPatchApproval", "params": {
                "conversationId": "c1", "callId": "call_2", "grantRoot": null, "reason": null,
                "fileChanges": {"/p/src/a.rs": {"type": "add", "content": "fn a() {}\n"}}}}),
        ],
    );
    let pending = |tool: &str| {
        let mut req = Value::Null;
        wait_until(&format!("the {tool} request in Paddock"), T, || {
            let all: Vec<Value> = env.approvals();
            req = all.into_iter().next().unwrap_or(Value::Null);
            req["tool"] == tool
        });
        assert_eq!(req["channel"], "hook", "{req:#}");
        assert_eq!(req["session"], id.as_str(), "{req:#}");
        req
    };
    let reply = || {
        replies
            .recv_timeout(T)
            .expect("the supervisor's reply to the stand-in server")
    };
    let exec = pending("exec_command");
    assert_eq!(exec["input"]["command"], "rm -rf build", "{exec:#}");
    assert_eq!(exec["input"]["reason"], "Clean the build?", "{exec:#}");
    env.wait_row(&id, "waiting_permission", T, |r| {
        r["state"] == "waiting_permission" && r["permission"]["id"] == exec["id"]
    });
    env.ok(&["deny", exec["id"].as_str().expect("id")]);
    assert_eq!(
        reply(),
        json!({"jsonrpc": "2.0", "id": "v1-exec", "result": {"decision": "denied"}})
    );
    let patch = pending("apply_patch");
    assert_eq!(patch["input"]["files"], json!(["/p/src/a.rs"]), "{patch:#}");
    env.ok(&["approve", patch["id"].as_str().expect("id")]);
    assert_eq!(
        reply(),
        json!({"jsonrpc": "2.0", "id": 7, "result": {"decision": "approved"}})
    );
}

#[test]
fn codex_whose_app_server_dies_under_its_terminal_ui_is_errored_with_what_to_do() {
    let app = CodexApp::start("echo never > made.txt");
    let log = app.env.dir().join("data/logs/paddock.log");
    let following = format!("following the session's Codex app-server id={}", app.id);
    wait_until(
        "the supervisor to follow the session's app-server",
        T,
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains(&following)),
    );
    // The server dies; Codex's terminal UI lives on, waiting to reconnect.
    let needle = format!("{}.codex-app-server", app.id);
    let servers: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|b| {
                let c = String::from_utf8_lossy(&b).replace('\0', " ");
                c.contains("app-server --listen") && c.contains(&needle)
            })
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!servers.is_empty(), "no app-server runs for the session");
    for pid in &servers {
        let _ = std::process::Command::new("kill")
            .args(["-9", pid])
            .status();
    }
    let row = app.wait_row("errored, saying why", |r| r["state"] == "errored");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|r| r.contains("app-server ended") && r.contains("paddock restart")),
        "{row:#}"
    );
    assert!(row["exit_code"].is_null(), "{row:#}");
    app.env
        .wait_screen(&app.id, "the UI waiting for its server", T, |s| {
            s.contains("Reconnecting to server")
        });
}
// --- end: Codex through its app-server ---
