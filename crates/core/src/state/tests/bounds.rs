//! What the state machine guarantees (docs/design/supervisor.md, "What the state machine
//! guarantees"), one test each, on a fake clock: every `Instant` below is `t0` plus a
//! duration, and nothing sleeps.

use super::*;

const MS: fn(u64) -> Duration = Duration::from_millis;

#[test]
fn a_programs_working_blip_is_no_work_and_a_turn_that_lasted_is() {
    // Codex 0.169.0 as it starts (crates/agents/tests/corpus/codex-idle-and-typing):
    // `working` and `idle` in one read, and 50 ms of `working` once it is ready.
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.program(Some(record(ProgramState::Working, None, None)), t0);
    m.program(Some(record(ProgramState::Idle, None, None)), t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Idle);
    m.program(
        Some(record(ProgramState::Working, None, None)),
        t0 + MS(3000),
    );
    m.program(Some(record(ProgramState::Idle, None, None)), t0 + MS(3050));
    assert_eq!(
        decide(&mut m, t0 + MS(3050)).detail.state,
        AgentState::Idle,
        "nothing was done yet"
    );
    // A turn interrupted after 3 s (Claude Code reports `idle`, not `done`).
    m.program(
        Some(record(ProgramState::Working, None, None)),
        t0 + MS(5000),
    );
    m.program(
        Some(record(
            ProgramState::Working,
            None,
            Some("Reading notes.txt"),
        )),
        t0 + MS(5100),
    );
    m.program(Some(record(ProgramState::Idle, None, None)), t0 + MS(8000));
    assert_eq!(
        decide(&mut m, t0 + MS(8000)).detail.state,
        AgentState::WaitingInput
    );
}

#[test]
fn a_failed_turn_on_the_screen_is_errored_until_the_user_types_or_a_new_turn_starts() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.started(t0);
    let failed = || ScreenSignal::Errored {
        reason: "API Error: 529 Overloaded".into(),
    };
    m.screen(ScreenSignal::Working, t0);
    m.output(t0 + MS(2900));
    m.screen(failed(), t0 + MS(3000));
    let d = decide(&mut m, t0 + MS(3000)).detail;
    assert_eq!(
        (d.state, d.reason.as_deref(), d.sources),
        (
            AgentState::Errored,
            Some("API Error: 529 Overloaded"),
            vec![StateSource::Screen]
        )
    );
    // It holds while the screen does, without a clock.
    let later = t0 + Duration::from_secs(600);
    assert_eq!(decide(&mut m, later).detail.state, AgentState::Errored);
    // The user types: the input box holds their text.
    m.screen(ScreenSignal::Prompt, later);
    assert_eq!(decide(&mut m, later).detail.state, AgentState::WaitingInput);
    // Or sends it: a new turn.
    m.screen(failed(), later + MS(100));
    m.screen(ScreenSignal::Working, later + MS(200));
    assert_eq!(
        decide(&mut m, later + MS(200)).detail.state,
        AgentState::Working
    );
}

#[test]
fn a_program_that_never_prints_is_starting_for_three_seconds_from_its_start_then_idle() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.started(t0);
    let d = decide(&mut m, t0 + MS(100));
    assert_eq!(d.detail.state, AgentState::Starting);
    assert_eq!(
        d.recheck_at,
        Some(t0 + OUTPUT_WORKING),
        "asks again when 3 s are up"
    );
    let d = decide(&mut m, t0 + OUTPUT_WORKING - MS(1));
    assert_eq!(d.detail.state, AgentState::Starting);
    let d = decide(&mut m, t0 + OUTPUT_WORKING);
    assert_eq!(
        (d.detail.state, d.changed, d.recheck_at),
        (AgentState::Idle, true, None)
    );
    assert_eq!(d.detail.sources, vec![StateSource::Output]);
}

#[test]
fn a_session_seen_long_after_its_start_is_never_starting() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.started(t0);
    let d = decide(&mut m, t0 + Duration::from_secs(600));
    assert_eq!((d.detail.state, d.recheck_at), (AgentState::Idle, None));
}

#[test]
fn a_machine_not_told_the_start_counts_from_its_first_decision() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    let d = decide(&mut m, t0);
    assert_eq!(d.detail.state, AgentState::Starting);
    assert_eq!(d.recheck_at, Some(t0 + OUTPUT_WORKING));
    assert_eq!(
        decide(&mut m, t0 + OUTPUT_WORKING).detail.state,
        AgentState::Idle
    );
}

#[test]
fn output_printed_before_the_supervisor_came_counts_from_when_it_was_printed() {
    let t0 = Instant::now();
    // Printed at 1 s, adopted at 10 s: quiet for 9 s already.
    let mut m = Machine::default();
    m.started(t0);
    m.output(t0 + Duration::from_secs(1));
    let d = decide(&mut m, t0 + Duration::from_secs(10));
    assert_eq!((d.detail.state, d.recheck_at), (AgentState::Idle, None));
    // At a prompt it waits for input at once.
    m.screen(ScreenSignal::PatternPrompt, t0 + Duration::from_secs(10));
    let d = decide(&mut m, t0 + Duration::from_secs(10));
    assert_eq!(d.detail.state, AgentState::WaitingInput);
    // Printed at 9 s, adopted at 10 s: working until 3 s after the print, not after
    // the adoption.
    let mut m = Machine::default();
    m.started(t0);
    m.output(t0 + Duration::from_secs(9));
    let d = decide(&mut m, t0 + Duration::from_secs(10));
    assert_eq!(d.detail.state, AgentState::Working);
    assert_eq!(d.recheck_at, Some(t0 + Duration::from_secs(12)));
}

#[test]
fn an_older_output_time_never_moves_the_last_output_back() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.output(t0 + Duration::from_secs(5));
    m.output(t0);
    let d = decide(&mut m, t0 + Duration::from_secs(6));
    assert_eq!(d.detail.state, AgentState::Working);
    assert_eq!(d.recheck_at, Some(t0 + Duration::from_secs(8)));
}

#[test]
fn a_plain_program_is_working_at_its_first_output_and_idle_three_seconds_after_its_last() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.started(t0);
    decide(&mut m, t0);
    let mut at = t0;
    for _ in 0..10 {
        at += MS(500);
        m.output(at);
        let d = decide(&mut m, at);
        assert_eq!(d.detail.state, AgentState::Working);
        assert_eq!(d.recheck_at, Some(at + OUTPUT_WORKING));
    }
    assert_eq!(
        decide(&mut m, at + OUTPUT_WORKING - MS(1)).detail.state,
        AgentState::Working
    );
    assert_eq!(
        decide(&mut m, at + OUTPUT_WORKING).detail.state,
        AgentState::Idle
    );
    // Idle is left at the next output.
    m.output(at + Duration::from_secs(20));
    assert_eq!(
        decide(&mut m, at + Duration::from_secs(20)).detail.state,
        AgentState::Working
    );
}

#[test]
fn a_permission_wait_ends_when_its_request_goes() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(bash_started(), t0);
    m.permission(Some(request(AnswerChannel::Hook)));
    assert_eq!(
        decide(&mut m, t0).detail.state,
        AgentState::WaitingPermission
    );
    m.permission(None);
    let d = decide(&mut m, t0).detail;
    assert_eq!(
        (d.state, d.tool.as_deref()),
        (AgentState::Working, Some("Bash"))
    );
    // A prompt seen on the screen of an agent without hooks: answered in the terminal.
    let mut m = Machine::default();
    m.permission(Some(request(AnswerChannel::Terminal)));
    assert_eq!(decide(&mut m, t0).detail.sources, vec![StateSource::Screen]);
    m.permission(None);
    m.output(t0);
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Working);
}

#[test]
fn an_error_is_left_at_the_next_turn() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.hook(
        HookSignal::TurnFailed {
            reason: "overloaded".into(),
        },
        t0,
    );
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Errored);
    m.hook(HookSignal::PromptSubmitted, t0 + MS(10));
    let d = decide(&mut m, t0 + MS(10)).detail;
    assert_eq!((d.state, d.reason), (AgentState::Working, None));
}

#[test]
fn an_ended_process_stays_ended_whatever_comes_after() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.set_life(ProcessLife::Ended {
        code: Some(2),
        signal: None,
    });
    assert_eq!(decide(&mut m, t0).detail.state, AgentState::Exited);
    m.output(t0 + MS(1));
    m.hook(HookSignal::PromptSubmitted, t0 + MS(1));
    m.screen(ScreenSignal::Working, t0 + MS(1));
    let d = decide(&mut m, t0 + Duration::from_secs(60));
    assert_eq!(
        (d.detail.state, d.detail.exit_code, d.recheck_at),
        (AgentState::Exited, Some(2), None)
    );
}

/// A small deterministic generator, so the sequences below are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn whatever_was_observed_the_timed_states_settle_within_three_seconds_of_the_last_signal() {
    let mut rng = Lcg(15);
    for _ in 0..2000 {
        let t0 = Instant::now();
        let mut m = Machine::default();
        m.started(t0);
        let mut at = t0;
        for _ in 0..rng.below(12) {
            at += MS(rng.below(4000));
            match rng.below(8) {
                0 | 1 => m.output(at),
                2 => m.screen(
                    [
                        ScreenSignal::Working,
                        ScreenSignal::Prompt,
                        ScreenSignal::PatternPrompt,
                        ScreenSignal::Unknown,
                        ScreenSignal::Errored {
                            reason: "API Error: 529 Overloaded".into(),
                        },
                    ][rng.below(5) as usize]
                        .clone(),
                    at,
                ),
                3 => m.hook(
                    [
                        HookSignal::SessionStarted,
                        HookSignal::PromptSubmitted,
                        HookSignal::ToolFinished,
                        HookSignal::TurnEnded,
                    ][rng.below(4) as usize]
                        .clone(),
                    at,
                ),
                4 => m.status_file(
                    [None, Some(FileStatus::Busy), Some(FileStatus::Idle)][rng.below(3) as usize]
                        .clone(),
                ),
                5 => m.permission((rng.below(2) == 0).then(|| request(AnswerChannel::Terminal))),
                _ => {}
            }
            let d = decide(&mut m, at);
            if let Some(when) = d.recheck_at {
                assert!(
                    when <= at.max(t0) + OUTPUT_WORKING,
                    "a timer beyond the bound: {:?} after the signal",
                    when - at
                );
            }
        }
        // Nothing more happens: follow the machine's own timers until it has none.
        let mut now = at;
        let mut steps = 0;
        let last = loop {
            let d = decide(&mut m, now);
            match d.recheck_at {
                Some(when) => {
                    assert!(when > now, "a timer that is already due loops");
                    now = when;
                }
                None => break d.detail,
            }
            steps += 1;
            assert!(steps < 4, "still re-deciding after {steps} timers");
        };
        assert!(now <= at.max(t0) + OUTPUT_WORKING, "settled late");
        assert_ne!(last.state, AgentState::Starting, "starting for good");
        let later = decide(&mut m, now + Duration::from_secs(3600)).detail;
        assert_eq!(later.state, last.state, "a settled state moved by itself");
    }
}

#[test]
fn a_holder_s_wall_clock_times_become_instants_on_the_same_clock() {
    let now = Instant::now();
    let wall = humantime::parse_rfc3339("2026-12-06T16:00:10Z").expect("time");
    let at = instant_of("2026-12-06T16:00:07.250Z", now, wall).expect("a time");
    assert_eq!(now - at, Duration::from_millis(2750));
    let future = instant_of("2026-12-06T16:00:11Z", now, wall).expect("a time");
    assert_eq!(future, now, "a clock a little ahead is now, never later");
    assert_eq!(instant_of("yesterday", now, wall), None);
}

#[test]
fn a_process_whose_terminal_is_out_of_reach_is_running_until_a_source_speaks() {
    let t0 = Instant::now();
    let mut m = Machine::default();
    m.output_unseen();
    m.started(t0);
    for at in [t0, t0 + Duration::from_secs(600)] {
        let d = decide(&mut m, at);
        assert_eq!(
            (d.detail.state, d.recheck_at),
            (AgentState::Running, None),
            "neither starting nor a guessed idle"
        );
    }
    m.status_file(Some(FileStatus::Busy));
    let d = decide(&mut m, t0 + Duration::from_secs(601)).detail;
    assert_eq!(
        (d.state, d.sources),
        (AgentState::Working, vec![StateSource::StatusFile])
    );
}
