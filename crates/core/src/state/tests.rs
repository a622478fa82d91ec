//! The state machine's precedence: each source alone, and which goes first when several
//! speak. The bounds it guarantees are in `bounds`.

use super::*;
use paddock_proto::agent::{AgentState, AnswerChannel, StateSource};
use paddock_proto::program_status::BlockedKind;

fn decide(m: &mut Machine, now: Instant) -> Decided {
    m.decide(now, || "t".into())
}

/// The state at `now` is still a permission wait, and the machine asks to be checked again,
/// when it has settled to waiting for input: the decision then.
fn settles_from_permission_to_waiting_input(m: &mut Machine, now: Instant) -> StateDetail {
    let d = decide(m, now);
    assert_eq!(
        d.detail.state,
        AgentState::WaitingPermission,
        "not settled yet"
    );
    let recheck = d.recheck_at.expect("asks to be checked again");
    let d = decide(m, recheck).detail;
    assert_eq!(
        d.state,
        AgentState::WaitingInput,
        "the prompt, steady since the answer, says it waits for input"
    );
    d
}

/// The hook event of a turn that starts running `Bash`.
fn bash_started() -> HookSignal {
    HookSignal::ToolStarted {
        tool: "Bash".into(),
    }
}

fn request(channel: AnswerChannel) -> PermissionRequest {
    PermissionRequest {
        id: "p1".into(),
        session: paddock_proto::SessionId::parse("abc").expect("valid"),
        agent_session: None,
        tool: "Bash".into(),
        input: serde_json::json!({"command": "ls"}),
        suggestions: vec![],
        created_at: "t".into(),
        expires_at: "t".into(),
        channel,
        questions: Vec::new(),
        outcome: None,
    }
}

fn record(state: ProgramState, kind: Option<BlockedKind>, msg: Option<&str>) -> ProgramStatus {
    ProgramStatus {
        state,
        kind,
        app: Some("claude-code".into()),
        message: msg.map(str::to_owned),
        title: None,
        progress: None,
        id: None,
        at: "t".into(),
    }
}

#[test]
fn a_programs_reports_alone_give_its_states_as_claude_code_sends_them() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.screen(ScreenSignal::Unknown, t0);
    m.program(Some(record(ProgramState::Idle, None, None)), t0);
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.sources.clone()),
        (AgentState::Idle, vec![StateSource::Program])
    );
    m.program(Some(record(ProgramState::Working, None, None)), t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Working);
    let ask = record(
        ProgramState::Blocked,
        Some(BlockedKind::Permission),
        Some("approve Bash: echo hi > osc.txt"),
    );
    m.program(Some(ask.clone()), t0);
    let d = decide(&mut m, t0).detail;
    assert_eq!(d.state, AgentState::WaitingPermission);
    assert_eq!(d.tool.as_deref(), Some("Bash"));
    assert_eq!(
        d.program.as_deref(),
        Some(&ask),
        "the record is shown with the state"
    );
    // The request the supervisor opens from the report keeps the program as the source.
    m.permission(Some(request(AnswerChannel::Terminal)));
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.sources),
        (AgentState::WaitingPermission, vec![StateSource::Program])
    );
    m.permission(None);
    m.program(Some(record(ProgramState::Working, None, None)), t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Working);
    m.program(Some(record(ProgramState::Done, None, None)), t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::WaitingInput);
    m.program(Some(record(ProgramState::Idle, None, None)), t0);
    assert_eq!(
        decide(&mut m, t0).detail.state,
        AgentState::WaitingInput,
        "idle after work waits for its owner"
    );
}

#[test]
fn other_blocks_and_errors_carry_the_programs_message() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.program(
        Some(record(
            ProgramState::Blocked,
            Some(BlockedKind::Auth),
            Some("Not logged in · Please run /login"),
        )),
        t0,
    );
    let d = decide(&mut m, t0).detail;
    assert_eq!(d.state, AgentState::WaitingInput);
    assert_eq!(
        d.reason.as_deref(),
        Some("Not logged in · Please run /login")
    );
    m.program(
        Some(record(ProgramState::Error, None, Some("rate limited"))),
        t0,
    );
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.reason.as_deref()),
        (AgentState::Errored, Some("rate limited"))
    );
    m.program(None, t0);
    assert_ne!(
        decide(&mut m, t0).detail.sources.first(),
        Some(&StateSource::Program),
        "a cleared record decides nothing"
    );
}

#[test]
fn hooks_go_before_the_programs_reports_and_reports_before_the_screen() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.screen(ScreenSignal::Prompt, t0);
    m.program(Some(record(ProgramState::Working, None, None)), t0);
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.sources),
        (AgentState::Working, vec![StateSource::Program])
    );
    m.hook(HookSignal::TurnEnded, t0);
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.sources),
        (AgentState::WaitingInput, vec![StateSource::Hooks])
    );
}

#[test]
fn a_hooked_turn_goes_working_tool_permission_working_waiting() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Starting);
    m.hook(HookSignal::SessionStarted, t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Idle);
    m.hook(HookSignal::PromptSubmitted, t0);
    let d = decide(&mut m, t0);
    assert_eq!((d.detail.state, d.changed), (AgentState::Working, true));
    m.hook(bash_started(), t0);
    let d = decide(&mut m, t0);
    assert_eq!(d.detail.tool.as_deref(), Some("Bash"));
    assert!(d.changed, "a new tool is a change");
    m.permission(Some(request(AnswerChannel::Hook)));
    let d = decide(&mut m, t0);
    assert_eq!(d.detail.state, AgentState::WaitingPermission);
    assert_eq!(
        d.detail.permission.as_ref().map(|p| p.id.as_str()),
        Some("p1")
    );
    assert_eq!(d.detail.sources, vec![StateSource::Hooks]);
    m.permission(None);
    m.hook(HookSignal::ToolFinished, t0);
    let d = decide(&mut m, t0);
    assert_eq!((d.detail.state, d.detail.tool), (AgentState::Working, None));
    m.hook(HookSignal::TurnEnded, t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::WaitingInput);
    // A later idle reminder keeps it waiting for input.
    m.hook(HookSignal::Waiting { permission: false }, t0);
    let d = decide(&mut m, t0);
    assert_eq!(
        (d.detail.state, d.changed),
        (AgentState::WaitingInput, false)
    );
}

#[test]
fn the_process_ending_is_final_and_says_how() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(HookSignal::PromptSubmitted, t0);
    m.set_life(ProcessLife::Ended {
        code: None,
        signal: Some("KILL".into()),
    });
    let d = decide(&mut m, t0).detail;
    assert_eq!(d.state, AgentState::Exited);
    assert_eq!(d.reason.as_deref(), Some("killed by KILL"));
    m.set_life(ProcessLife::Ended {
        code: Some(0),
        signal: None,
    });
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.exit_code),
        (AgentState::Exited, Some(0)),
        "mid-turn, even code 0 is not a completion"
    );
    let mut done = Machine::default();
    done.hook(HookSignal::PromptSubmitted, t0);
    done.hook(HookSignal::TurnEnded, t0);
    decide(&mut done, t0);
    done.set_life(ProcessLife::Ended {
        code: Some(0),
        signal: None,
    });
    let d = decide(&mut done, t0).detail;
    assert_eq!((d.state, d.exit_code), (AgentState::Completed, Some(0)));
}

#[test]
fn a_failed_turn_is_errored_with_its_reason() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(HookSignal::PromptSubmitted, t0);
    m.hook(
        HookSignal::TurnFailed {
            reason: "overloaded".into(),
        },
        t0,
    );
    let d = decide(&mut m, t0).detail;
    assert_eq!(d.state, AgentState::Errored);
    assert_eq!(d.reason.as_deref(), Some("overloaded"));
}

#[test]
fn an_interrupt_without_a_stop_hook_settles_to_waiting_input_from_the_screen() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(HookSignal::PromptSubmitted, t0);
    m.output(t0);
    let t1 = t0 + Duration::from_millis(100);
    m.screen(ScreenSignal::Prompt, t1);
    let d = decide(&mut m, t1);
    assert_eq!(d.detail.state, AgentState::Working, "not settled yet");
    let recheck = d.recheck_at.expect("asks to be checked again");
    assert_eq!(recheck, t1 + SCREEN_SETTLE);
    let d = decide(&mut m, recheck);
    assert_eq!(d.detail.state, AgentState::WaitingInput);
    assert_eq!(
        d.detail.sources,
        vec![StateSource::Screen, StateSource::Hooks]
    );
}

// --- begin: Gemini CLI (issue 15, item 4) ---
#[test]
fn a_declined_box_the_screen_never_showed_still_settles_to_waiting_input() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(HookSignal::PromptSubmitted, t0);
    // The input prompt was on the screen before the hook announced the box.
    m.screen(ScreenSignal::Prompt, t0);
    let t1 = t0 + Duration::from_millis(200);
    m.hook(HookSignal::Waiting { permission: true }, t1);
    m.permission(Some(request(AnswerChannel::Terminal)));
    assert_eq!(
        decide(&mut m, t1).detail.state,
        AgentState::WaitingPermission
    );
    // Declined before the screen was sampled with the box on it: the screen still says
    // Prompt, from before the hook.
    m.permission(None);
    let t2 = t1 + Duration::from_millis(100);
    m.output(t2);
    settles_from_permission_to_waiting_input(&mut m, t2);
}

#[test]
fn a_permission_a_hook_announced_is_declined_then_the_input_prompt_settles_to_waiting_input() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(HookSignal::PromptSubmitted, t0);
    m.hook(HookSignal::Waiting { permission: true }, t0);
    m.permission(Some(request(AnswerChannel::Terminal)));
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.sources),
        (AgentState::WaitingPermission, vec![StateSource::Hooks]),
        "the request came from the hook, though its answer is typed"
    );
    // Declined: the request is gone, no hook follows, the box leaves the screen.
    m.permission(None);
    m.output(t0);
    let t1 = t0 + Duration::from_millis(100);
    m.screen(
        ScreenSignal::Permission {
            tool: None,
            subject: None,
        },
        t0,
    );
    assert_eq!(
        decide(&mut m, t1).detail.state,
        AgentState::WaitingPermission,
        "the box is still on the screen"
    );
    m.screen(ScreenSignal::Prompt, t1);
    let d = settles_from_permission_to_waiting_input(&mut m, t1);
    assert_eq!(d.sources, vec![StateSource::Screen, StateSource::Hooks]);
}
// --- end: Gemini CLI ---

#[test]
fn a_prompt_left_on_screen_after_the_hook_gave_up_is_still_a_permission_wait() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(bash_started(), t0);
    m.screen(
        ScreenSignal::Permission {
            tool: Some("Bash".into()),
            subject: None,
        },
        t0,
    );
    let d = decide(&mut m, t0).detail;
    assert_eq!(d.state, AgentState::WaitingPermission);
    assert_eq!(d.sources[0], StateSource::Screen);
}

#[test]
fn without_hooks_the_status_file_decides_and_the_screen_names_the_tool() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.status_file(Some(FileStatus::Idle));
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Idle);
    m.status_file(Some(FileStatus::Busy));
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Working);
    m.status_file(Some(FileStatus::Waiting { permission: true }));
    m.screen(
        ScreenSignal::Permission {
            tool: Some("Bash".into()),
            subject: Some("echo hi".into()),
        },
        t0,
    );
    let d = decide(&mut m, t0).detail;
    assert_eq!(d.state, AgentState::WaitingPermission);
    assert_eq!(d.tool.as_deref(), Some("Bash"));
    m.status_file(Some(FileStatus::Idle));
    m.screen(ScreenSignal::Prompt, t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::WaitingInput);
}

#[test]
fn a_plain_program_works_while_it_prints_then_idles_or_waits_at_its_prompt() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.output(t0);
    let d = decide(&mut m, t0);
    assert_eq!(d.detail.state, AgentState::Working);
    let later = d.recheck_at.expect("recheck when output goes quiet");
    assert_eq!(decide(&mut m, later).detail.state, AgentState::Idle);
    m.screen(ScreenSignal::PatternPrompt, later);
    let d = decide(&mut m, later).detail;
    assert_eq!(d.state, AgentState::WaitingInput);
}

mod bounds;
