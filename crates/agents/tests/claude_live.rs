//! Claude Code's live-state surfaces, read from files the real CLI 2.1.328 wrote: hook
//! payloads, the status file and a permission prompt's screen.

use paddock_agents::claude::hooks::{permission_decision_json, PermissionDecision};
use paddock_agents::claude::status::{CliStatus, StatusFile};
use paddock_agents::claude::ClaudePaths;
use paddock_agents::{
    adapter_for, detect, AgentKind, HookEvent, PromptKind, ScreenState, StateHint,
};
use std::path::Path;

mod samples;

use samples::{data, parsed_hooks};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).expect("sample file")
}

#[test]
fn the_real_hook_payloads_become_typed_events_with_their_state() {
    let parsed = parsed_hooks(&AgentKind::Claude, "claude-hooks-2.1.328.json");
    for p in &parsed {
        assert_eq!(
            p.session_id.as_deref(),
            Some("e8c436b3-3564-4f9e-8905-a44d5422124f")
        );
        assert_eq!(p.cwd.as_deref(), Some(Path::new("/home/dev/app")));
        assert_eq!(
            p.transcript_path.as_deref(),
            Some(Path::new(
                "/home/dev/.claude/projects/-home-dev-app/e8c436b3-3564-4f9e-8905-a44d5422124f.jsonl"
            ))
        );
    }
    assert_eq!(
        parsed[0].event,
        HookEvent::UserPromptSubmit {
            prompt: "please make a file once more".into()
        }
    );
    assert_eq!(
        parsed[0].event.state_hint(),
        StateHint::Working { tool: None }
    );

    let HookEvent::PreToolUse { tool } = &parsed[1].event else {
        panic!("not PreToolUse: {:?}", parsed[1].event)
    };
    assert_eq!(tool.name, "Bash");
    assert_eq!(tool.summary(), "echo hi > made.txt");
    assert_eq!(tool.tool_use_id.as_deref(), Some("toolu_mock1"));
    assert_eq!(
        parsed[1].event.state_hint(),
        StateHint::Working {
            tool: Some("Bash".into())
        }
    );

    let HookEvent::PermissionRequest { tool, suggestions } = &parsed[2].event else {
        panic!("not PermissionRequest: {:?}", parsed[2].event)
    };
    assert_eq!(tool.summary(), "echo hi > made.txt");
    assert_eq!(parsed[2].permission_mode.as_deref(), Some("default"));
    assert_eq!(suggestions.len(), 1);
    assert_eq!(suggestions[0].kind, "addDirectories");
    assert_eq!(
        suggestions[0].label,
        "always allow access to /home/dev/app (this session)"
    );
    assert_eq!(
        parsed[2].event.state_hint(),
        StateHint::WaitingPermission {
            tool: Some("Bash".into())
        }
    );
    // Allow always sends the suggestion back exactly as Claude Code offered it.
    let answer = permission_decision_json(&PermissionDecision::Allow {
        always: suggestions.clone(),
    });
    let v: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(
        v["hookSpecificOutput"]["decision"]["updatedPermissions"][0],
        parsed[2].raw["permission_suggestions"][0]
    );

    assert_eq!(
        parsed[3].event,
        HookEvent::Notification {
            message: Some("Claude needs your permission".into()),
            notification_type: Some("permission_prompt".into())
        }
    );
    assert_eq!(
        parsed[3].event.state_hint(),
        StateHint::WaitingPermission { tool: None }
    );
}

#[test]
fn the_other_documented_events_are_typed() {
    let claude = adapter_for(&AgentKind::Claude);
    let ev = |json: &str| claude.parse_hook(json.as_bytes()).expect("parse").event;
    assert_eq!(
        ev(r#"{"hook_event_name":"SessionStart","source":"resume","model":"claude-opus-5-5"}"#),
        HookEvent::SessionStart {
            source: Some("resume".into()),
            model: Some("claude-opus-5-5".into())
        }
    );
    let post = ev(
        r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":{"stdout":"a"},"duration_ms":41}"#,
    );
    assert!(
        matches!(&post, HookEvent::PostToolUse { tool, duration_ms: Some(41), response: Some(r) } if tool.name == "Bash" && r["stdout"] == "a"),
        "{post:?}"
    );
    let fail = ev(
        r#"{"hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_input":{},"error":"exit 1","is_interrupt":false}"#,
    );
    assert!(
        matches!(&fail, HookEvent::PostToolUseFailure { error: Some(e), .. } if e == "exit 1"),
        "{fail:?}"
    );
    assert_eq!(
        ev(r#"{"hook_event_name":"Stop","last_assistant_message":"Done.","stop_hook_active":false}"#)
            .state_hint(),
        StateHint::WaitingInput
    );
    assert_eq!(
        ev(r#"{"hook_event_name":"SessionEnd","reason":"prompt_input_exit"}"#).state_hint(),
        StateHint::Ended {
            reason: Some("prompt_input_exit".into())
        }
    );
}

#[test]
fn the_real_status_file_says_waiting_for_a_permission_in_a_tmux_pane() {
    let s = StatusFile::read(&data("claude-session-status-2.1.328.json")).expect("status");
    assert_eq!(s.pid, 12370);
    assert_eq!(
        s.session_id.as_deref(),
        Some("e8c436b3-3564-4f9e-8905-a44d5422124f")
    );
    assert_eq!(s.cwd.as_deref(), Some(Path::new("/home/dev/app")));
    assert_eq!(s.status, Some(CliStatus::Waiting));
    assert_eq!(s.waiting_for.as_deref(), Some("permission prompt"));
    assert_eq!(s.version.as_deref(), Some("2.1.328"));
    let tmux = s.tmux.as_ref().expect("tmux");
    assert_eq!(
        (tmux.session.as_str(), tmux.pane.as_deref()),
        ("cc", Some("%0"))
    );
    assert_eq!(s.state_hint(), StateHint::WaitingPermission { tool: None });
}

#[test]
fn status_files_are_listed_from_the_config_dir_skipping_broken_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = ClaudePaths::new(dir.path());
    std::fs::create_dir_all(paths.sessions()).expect("mkdir");
    std::fs::copy(
        data("claude-session-status-2.1.328.json"),
        paths.status_file(12370),
    )
    .expect("copy");
    std::fs::write(paths.status_file(99), b"{\"pid\": 99, \"status\": \"bu").expect("write");
    std::fs::write(
        paths.status_file(7),
        br#"{"pid":7,"status":"busy","sessionId":"x"}"#,
    )
    .expect("write");
    let all = paths.status_files();
    let pids: Vec<u32> = all.iter().map(|s| s.pid).collect();
    assert_eq!(pids, vec![7, 12370]);
    assert_eq!(all[0].state_hint(), StateHint::Working { tool: None });
}

#[test]
fn the_real_permission_screen_shows_the_bash_command_and_its_options() {
    let text = String::from_utf8(read("claude-permission-screen-2.1.328.txt")).expect("utf8");
    let rows: Vec<&str> = text.lines().collect();
    let state = adapter_for(&AgentKind::Claude).classify_screen(&rows, None);
    let ScreenState::Prompt(p) = state else {
        panic!("not a prompt: {state:?}")
    };
    assert_eq!(p.kind, PromptKind::Permission);
    assert_eq!(p.tool.as_deref(), Some("Bash"));
    assert_eq!(p.title.as_deref(), Some("Bash command"));
    assert_eq!(p.detail.as_deref(), Some("echo hi > made.txt"));
    assert_eq!(p.description.as_deref(), Some("Create made.txt"));
    assert_eq!(p.question, "Do you want to proceed?");
    assert_eq!(
        p.options,
        vec![
            "Yes",
            "Yes, and always allow access to /home/dev/app from this project",
            "Yes, and switch to auto mode · auto mode handles these prompts for you",
            "No"
        ]
    );
    assert_eq!(p.selected, Some(0));
}

#[test]
fn the_screen_after_the_prompt_is_answered_is_no_longer_a_prompt() {
    // The same session once the command ran: the prompt is gone, the spinner runs.
    let text = String::from_utf8(read("claude-permission-screen-2.1.328.txt")).expect("utf8");
    let mut rows: Vec<&str> = text.lines().take(9).collect();
    rows.extend([
        "  ⎿  (No content)",
        "",
        "✻ Wibbling… (2s · esc to interrupt)",
        "",
        "────────────────────────────────────────",
        "❯ ",
        "────────────────────────────────────────",
    ]);
    let state = adapter_for(&AgentKind::Claude).classify_screen(&rows, None);
    assert!(matches!(state, ScreenState::Working { .. }), "{state:?}");
}

#[test]
fn agents_are_detected_from_command_lines_with_the_monitor_rules() {
    let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        detect(&[], &argv("claude --permission-mode manual"), None),
        Some(AgentKind::Claude)
    );
    assert_eq!(
        detect(&[], &argv("node /usr/local/bin/codex"), None),
        Some(AgentKind::Codex)
    );
    assert_eq!(detect(&[], &argv("vim claude.md"), None), None);
    // Claude Code is interrupted with Esc, the others with Ctrl-C.
    assert_eq!(adapter_for(&AgentKind::Claude).interrupt_keys(), b"\x1b");
    assert_eq!(adapter_for(&AgentKind::Aider).interrupt_keys(), b"\x03");
    let e = adapter_for(&AgentKind::Aider)
        .parse_hook(b"{}")
        .expect_err("no hooks");
    assert!(e.to_string().contains("aider has no hooks"), "{e}");
}
