//! Gemini CLI's live-state surfaces, read from what the real CLI 0.61.0 produced against the
//! local fake Gemini API: every hook payload of one turn that ran a shell command after the
//! user allowed it (`hooks` in its settings.json calling a recorder), and its screens (the
//! input prompt, the tool confirmation box).

use paddock_agents::{adapter_for, AgentKind, HookEvent, PromptKind, ScreenState, StateHint};
use std::path::Path;

mod samples;

use samples::{data, parsed_hooks};

fn screen(name: &str) -> String {
    std::fs::read_to_string(data(name)).expect("sample screen")
}

#[test]
fn the_real_hook_payloads_become_the_common_events_with_their_state() {
    let parsed = parsed_hooks(&AgentKind::Gemini, "gemini-hooks-0.61.0.json");
    for p in &parsed {
        assert_eq!(
            p.session_id.as_deref(),
            Some("471285d1-f702-44a2-b946-834fb578f576")
        );
        assert_eq!(p.cwd.as_deref(), Some(Path::new("/home/dev/app")));
        assert!(p
            .transcript_path
            .as_deref()
            .is_some_and(|t| t.starts_with("/home/dev/.gemini/tmp/app/chats")));
    }
    let names: Vec<&str> = parsed.iter().map(|p| p.event_name.as_str()).collect();
    let hints: Vec<(&str, StateHint)> = parsed
        .iter()
        .filter(|p| p.event != HookEvent::Unknown)
        .map(|p| (p.event_name.as_str(), p.event.state_hint()))
        .collect();
    // The events that say something about the state, in the order the real CLI sent them.
    let expected = [
        ("SessionStart", "startup"),
        ("BeforeAgent", "prompt"),
        ("BeforeTool", "tool"),
        ("Notification", "permission"),
        ("AfterTool", "tool done"),
        ("AfterAgent", "turn ended"),
        ("SessionEnd", "end"),
    ];
    let mut at = 0;
    for (name, what) in expected {
        let Some(i) = hints[at..].iter().position(|(n, _)| *n == name) else {
            panic!("no {name} ({what}) after position {at} in {names:?}")
        };
        at += i + 1;
    }
    let before_agent = parsed
        .iter()
        .find(|p| p.event_name == "BeforeAgent")
        .expect("BeforeAgent");
    assert_eq!(
        before_agent.event,
        HookEvent::UserPromptSubmit {
            prompt: "please run it".into()
        }
    );
    let before_tool = parsed
        .iter()
        .find(|p| p.event_name == "BeforeTool")
        .expect("BeforeTool");
    let HookEvent::PreToolUse { tool } = &before_tool.event else {
        panic!("BeforeTool is not PreToolUse: {:?}", before_tool.event)
    };
    assert_eq!(tool.name, "run_shell_command");
    assert_eq!(tool.input["command"], "echo hi > made.txt");
    let ask = parsed
        .iter()
        .find(|p| p.event_name == "Notification")
        .expect("Notification");
    assert_eq!(
        ask.event.state_hint(),
        StateHint::WaitingPermission { tool: None }
    );
    let HookEvent::Notification { message, .. } = &ask.event else {
        panic!("not a notification")
    };
    assert_eq!(
        message.as_deref(),
        Some("Tool Confirm Shell Command requires execution")
    );
    let after = parsed
        .iter()
        .find(|p| p.event_name == "AfterAgent")
        .expect("AfterAgent");
    assert!(matches!(
        &after.event,
        HookEvent::Stop { last_assistant_message: Some(m), .. } if m.contains("The command ran.")
    ));
    // Events with nothing to say about the state (BeforeModel, PreCompress, ...) are known
    // as unknown, not misread.
    for p in parsed.iter().filter(|p| {
        matches!(
            p.event_name.as_str(),
            "BeforeModel" | "AfterModel" | "BeforeToolSelection" | "PreCompress"
        )
    }) {
        assert_eq!(p.event, HookEvent::Unknown, "{}", p.event_name);
    }
}

#[test]
fn the_real_confirmation_box_is_a_permission_prompt_with_the_command() {
    let text = screen("gemini-permission-screen-0.61.0.txt");
    let rows: Vec<&str> = text.lines().collect();
    let gemini = adapter_for(&AgentKind::Gemini);
    let ScreenState::Prompt(p) = gemini.classify_screen(&rows, None) else {
        panic!("not a prompt: {:?}", gemini.classify_screen(&rows, None))
    };
    assert_eq!(p.kind, PromptKind::Permission);
    assert_eq!(p.tool.as_deref(), Some("Shell"));
    assert_eq!(p.detail.as_deref(), Some("echo hi > made.txt"));
    assert_eq!(p.question, "Allow execution of [Shell]?");
    assert_eq!(
        p.options,
        [
            "Allow once",
            "Allow for this session",
            "No, suggest changes (esc)"
        ]
    );
    assert_eq!(p.selected, Some(0));
}

#[test]
fn the_real_input_prompt_is_waiting_for_input() {
    let text = screen("gemini-idle-screen-0.61.0.txt");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        adapter_for(&AgentKind::Gemini).classify_screen(&rows, None),
        ScreenState::WaitingInput
    );
}
