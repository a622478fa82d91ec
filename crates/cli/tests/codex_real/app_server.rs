//! The real Codex through its app-server: states and approvals from its protocol, answered in
//! Paddock, followed again after a restart, and run plain when the app-server cannot start.

use crate::common::*;
use crate::support::{approve_with_y, assert_ran, told, CodexApp, T};
use paddock_fakeapi::agents;
use paddock_fakeapi::Reply;
use serde_json::{json, Value};

// --- begin: Codex through its app-server (issue 15, item 2) ---

/// Live processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn codex_through_its_app_server_works_waits_for_permission_from_the_protocol_and_takes_paddock_approve(
) {
    let cmd = "echo approved-through-the-protocol > made.txt";
    let app = CodexApp::start(cmd);
    let socket = app.socket();
    assert!(
        socket.exists(),
        "the TUI runs without the session's app-server"
    );
    app.say();
    // Codex's notify reports only ends of turns: `working` from hooks is the protocol's.
    app.wait_row("working (from the protocol) while the model thinks", |r| {
        r["state"] == "working" && r["sources"][0] == "hooks"
    });
    let req = app.ask();
    app.assert_from_the_protocol(&req, cmd);
    let row = app.wait_row("waiting_permission", |_| true);
    assert_eq!(row["permission"]["id"], req["id"], "{row:#}");
    app.env.ok(&["approve", req["id"].as_str().expect("id")]);
    wait_until("made.txt written by the approved command", T, || {
        std::fs::read_to_string(app.made()).is_ok_and(|s| s == "approved-through-the-protocol\n")
    });
    assert_ran(&app.fake, "the approved command's output");
    app.assert_turn_ended();
    // The app-server lives and ends with the session: nothing lingers.
    let env = &app.env;
    let id = app.id.as_str();
    let needle = format!("{id}.codex-app-server");
    assert!(
        !processes_with(&needle).is_empty(),
        "no app-server process runs for the session"
    );
    let real = std::fs::read_link(&socket).expect("the socket is Codex's symlink");
    env.ok(&["kill", id]);
    wait_until("the session's app-server processes to end", T, || {
        processes_with(&needle).is_empty()
    });
    // Killed, the server may leave its socket under /tmp: the session's removal takes it
    // (the holder's own, or `paddock rm`'s when the holder still shows the exit).
    let _ = env.paddock(&["rm", id]);
    wait_until("Codex's socket file removed with the session", T, || {
        !real.exists() && !socket.exists()
    });
}

#[test]
fn codex_through_its_app_server_denied_by_paddock_does_not_run_the_command_and_tells_the_model() {
    let cmd = "echo denied-through-the-protocol > made.txt";
    let app = CodexApp::start(cmd);
    app.say();
    let req = app.ask();
    app.assert_from_the_protocol(&req, cmd);
    let out = app.env.ok(&["deny", req["id"].as_str().expect("id")]);
    assert!(out.starts_with("denied "), "{out}");
    // Codex tells the model the command was declined, and the model ends its turn.
    let told = told(&app.fake, "the declined command's output", 0);
    assert!(
        told.contains("rejected") && !told.contains("exited with code"),
        "{told}"
    );
    app.assert_turn_ended();
    assert!(!app.made().exists(), "the denied command ran");
    let pending: Vec<Value> = app.env.approvals();
    assert!(pending.is_empty(), "{pending:#?}");
}

#[test]
fn codex_through_its_app_server_is_followed_again_after_the_supervisor_restarts_and_its_approval_offered_again(
) {
    let cmd = "echo approved-after-a-restart > made.txt";
    let mut app = CodexApp::start(cmd);
    app.say();
    let first = app.ask();
    app.assert_from_the_protocol(&first, cmd);
    // The supervisor dies; the session (and Codex's app-server in its holder) lives on.
    app.sup.take().expect("the supervisor").kill9();
    // Until the new supervisor reaches the app-server, it reads the approval from Codex's
    // status report and screen, as a request answered in the terminal (the socket is kept
    // from it for that long here; connecting may also take a moment).
    let socket = app.socket();
    let aside = socket.with_extension("aside");
    std::fs::rename(&socket, &aside).expect("move the socket aside");
    app.sup = Some(app.env.up());
    app.wait_row("waiting_permission read from the terminal", |r| {
        r["state"] == "waiting_permission" && r["permission"]["channel"] == "terminal"
    });
    std::fs::rename(&aside, &socket).expect("put the socket back");
    // The new supervisor follows the app-server again: the pending approval is replayed
    // to it, and offered again over the protocol, replacing the guess.
    app.wait_row("waiting_permission again, from the protocol", |r| {
        r["state"] == "waiting_permission"
            && r["sources"][0] == "hooks"
            && !r["permission"]["id"].is_null()
    });
    let again = app.pending();
    app.assert_from_the_protocol(&again, cmd);
    app.env.ok(&["approve", again["id"].as_str().expect("id")]);
    wait_until(
        "made.txt written by the command approved after the restart",
        T,
        || std::fs::read_to_string(app.made()).is_ok_and(|s| s == "approved-after-a-restart\n"),
    );
    app.assert_turn_ended();
}

#[test]
fn codex_whose_app_server_cannot_start_runs_plain_says_why_and_is_read_as_before() {
    // A Codex that refuses `app-server` (as one older than the subcommand would), otherwise
    // the pinned one.
    let real = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let bin = tempfile::tempdir().expect("temp dir");
    let stand_in = bin.path().join("codex");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\nif [ \"$1\" = app-server ]; then\n  echo \"error: unrecognized subcommand 'app-server'\" >&2\n  exit 2\nfi\nexec '{}' \"$@\"\n",
            real.display()
        ),
    )
    .expect("write the stand-in");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let cmd = "echo approved-in-the-terminal > made.txt";
    let app = CodexApp::start_as(cmd, &stand_in.display().to_string());
    // The terminal says why, and Codex runs without a server.
    let said = app.env.ok(&["logs", "--raw", &app.id]);
    assert!(
        said.contains("unrecognized subcommand 'app-server'")
            && said.contains("Codex's app-server did not start")
            && said.contains("running Codex without it"),
        "{said}"
    );
    assert!(!app.socket().exists(), "a socket without a server");
    assert!(
        processes_with(&format!("{}.codex-app-server", app.id)).is_empty(),
        "an app-server runs for the session"
    );
    // Its state comes from today's path (Codex's own status reports and its screen, not
    // the protocol): the approval waits in the terminal, and is answered there.
    app.say();
    app.fake.open_gate("think");
    let (row, req) = app.asked("waiting_permission");
    let sources: Vec<&str> = row["sources"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        !sources.contains(&"hooks")
            && (sources.contains(&"program") || sources.contains(&"screen")),
        "{row:#}"
    );
    assert_eq!(req["channel"], "terminal", "{row:#}");
    approve_with_y(&app.env, &app.id, &app.made(), "approved-in-the-terminal\n");
    app.env.wait_screen(&app.id, "the answer", T, |s| {
        s.contains("Done with made.txt.")
    });
    app.wait_row("waiting_input", |r| r["state"] == "waiting_input");
}

#[test]
fn codex_through_its_app_server_asks_its_question_in_paddock_and_takes_the_answer() {
    // Codex's `request_user_input` tool (in its default mode behind a feature flag).
    let question = json!({"questions": [{"id": "colour", "header": "Colour",
        "question": "Which colour should made.txt say?",
        "options": [{"label": "Red (Recommended)", "description": "Warm"},
                    {"label": "Blue", "description": "Calm"}]}]});
    let app = CodexApp::with_tools(
        Reply::tool_use("request_user_input", question),
        &[],
        &["--enable", "default_mode_request_user_input"],
    );
    app.say();
    let (row, req) = app.asked("waiting for the owner's answer");
    assert_eq!(req["channel"], "hook", "{req:#}");
    assert_eq!(row["permission"]["id"], req["id"], "{row:#}");
    let q = &req["questions"][0];
    assert_eq!(
        q["question"], "Which colour should made.txt say?",
        "{req:#}"
    );
    assert_eq!(q["header"], "Colour", "{req:#}");
    assert_eq!(q["options"][1]["label"], "Blue", "{req:#}");
    app.env.ok(&[
        "approve",
        req["id"].as_str().expect("id"),
        "--answer",
        "Blue",
    ]);
    // The model gets the answer as the tool's output, and the TUI moves on.
    let told = told(&app.fake, "the question's answer", 0);
    assert!(told.contains("Blue") && told.contains("colour"), "{told}");
    app.assert_turn_ended();
}

#[test]
fn codex_through_its_app_server_asks_for_more_permissions_in_paddock_and_is_granted_them() {
    // Codex's `request_permissions` tool (behind a feature flag in 0.169.0).
    let ask = json!({"reason": "Fetch the crate index",
        "permissions": {"network": {"enabled": true}}});
    let app = CodexApp::with_tools(
        Reply::tool_use("request_permissions", ask),
        &[],
        &["--enable", "request_permissions_tool"],
    );
    app.say();
    let (_, req) = app.asked("waiting for permission");
    assert_eq!(req["channel"], "hook", "{req:#}");
    assert_eq!(req["tool"], "permissions", "{req:#}");
    assert_eq!(req["input"]["reason"], "Fetch the crate index", "{req:#}");
    assert_eq!(
        req["input"]["permissions"]["network"]["enabled"], true,
        "{req:#}"
    );
    app.env.ok(&["approve", req["id"].as_str().expect("id")]);
    let told = told(&app.fake, "the grant", 0);
    assert!(told.contains("network"), "{told}");
    app.assert_turn_ended();
}

#[test]
fn codex_through_its_app_server_asks_before_an_mcp_tool_in_paddock_and_a_denial_tells_the_model() {
    // Codex asks (an MCP elicitation) before a tool of an MCP server runs: here Paddock's own,
    // which every session Paddock starts has.
    let call = |n: &str| {
        Reply::tool_use(
            "mcp__paddock::notify_owner",
            json!({"title": "From Codex", "message": format!("hello owner {n}")}),
        )
    };
    let app = CodexApp::with_tools(call("one"), &[call("two")], &[]);
    app.say();
    let asked = |n: &str| {
        let (_, req) = app.asked("waiting for permission to run the MCP tool");
        assert_eq!(req["channel"], "hook", "{req:#}");
        assert_eq!(req["tool"], "mcp", "{req:#}");
        assert_eq!(req["input"]["server"], "paddock", "{req:#}");
        assert_eq!(req["input"]["tool"], "notify_owner", "{req:#}");
        assert_eq!(
            req["input"]["arguments"]["message"],
            format!("hello owner {n}"),
            "{req:#}"
        );
        req["id"].as_str().expect("id").to_owned()
    };
    let first = asked("one");
    app.env.ok(&["approve", &first]);
    // Approved, the tool ran: Paddock's own MCP server sent the notification.
    let ran = told(&app.fake, "the tool's result", 0);
    assert!(
        ran.contains("sent to the owner's notification channels"),
        "{ran}"
    );
    let second = asked("two");
    app.env.ok(&["deny", &second]);
    let told = told(&app.fake, "the declined tool's result", 1);
    assert!(told.contains("user rejected MCP tool call"), "{told}");
    app.assert_turn_ended();
}

// --- end: Codex through its app-server ---
