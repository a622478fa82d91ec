//! One state machine per session, fusing every signal into one [`StateDetail`].
//!
//! Precedence, most exact first (docs/design/supervisor.md, "Session state"):
//! 1. **process**: once the process is gone, that is final (`completed` for code 0,
//!    `exited` otherwise);
//! 2. **a pending permission request** (from a hook, or seen on the screen);
//! 3. **hooks** (sessions Paddock started): the last hook event decides, cross-checked with
//!    the screen for what hooks do not report (a prompt left in the terminal after the hook
//!    gave up, an interrupt that ends a turn without a `Stop`);
//! 4. **the program's own reports** (OSC 7501, read by its holder: exact and immediate,
//!    but only for programs that speak the protocol): `working`, `blocked` (permission:
//!    `waiting_permission` with the tool named in its message; other kinds:
//!    `waiting_input` with the message as the reason), `idle`, `done` (`waiting_input`)
//!    and `error` (`errored`). Hooks go first: they carry the exact request and answer it;
//! 5. **status file** (Claude Code sessions Paddock did not start): busy / idle / waiting;
//! 6. **screen**: an agent's recognised prompt, spinner, failed turn (`errored` until the
//!    user types or a new turn starts) or input box;
//! 7. **output**: printed in the last few seconds is `working`, else `idle` (or
//!    `waiting_input` when a prompt pattern matches); a program that never printed is
//!    `starting` for its first [`OUTPUT_WORKING`], then `idle`; one whose terminal Paddock
//!    cannot see is `running`.
//!
//! The transcript refines but never overrides: it names the running tool when no hook did.
//! The machine is pure: observations in, state out, and a time at which it wants to be asked
//! again (quiet output turns `working` into `idle`, a silent start turns `starting` into
//! `idle`). What each state's bound is: docs/design/supervisor.md, "What the state machine guarantees".

use paddock_proto::agent::{AgentState, PermissionRequest, StateDetail, StateSource};
use paddock_proto::program_status::{BlockedKind, ProgramState, ProgramStatus};
use std::time::{Duration, Instant, SystemTime};

/// Output this recent means a plain program is working; a program that has printed nothing
/// for this long since it started is no longer `starting`.
pub const OUTPUT_WORKING: Duration = Duration::from_secs(3);
/// A turn that hooks call running but whose screen has shown the input prompt, with no output,
/// for this long has ended (Claude Code fires no `Stop` after an interrupt).
pub const SCREEN_SETTLE: Duration = Duration::from_millis(1500);

/// A program's `working` record replaced this soon was no work: Codex 0.169 reports
/// `working` and at once `idle` while it starts (and again, 50 ms long, once it is ready; see
/// crates/agents/tests/corpus/README.md), and a session that has done nothing is `idle`, not
/// `waiting_input`.
pub const PROGRAM_BLIP: Duration = Duration::from_millis(250);

/// What a hook event means for the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookSignal {
    /// The session started (or resumed, cleared, compacted): at its prompt.
    SessionStarted,
    /// The owner submitted a prompt: a turn starts.
    PromptSubmitted,
    /// About to run a tool.
    ToolStarted { tool: String },
    /// A tool finished (successfully or not); the turn goes on.
    ToolFinished,
    /// The agent reminds its owner that it waits (Claude Code's `Notification`).
    Waiting { permission: bool },
    /// The turn ended: the agent waits for input.
    TurnEnded,
    /// The turn failed (rate limit, overloaded, authentication...).
    TurnFailed { reason: String },
    /// The agent's session ended (the process follows).
    SessionEnded,
}

/// What the screen shows, as an agent adapter reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenSignal {
    /// A permission prompt for `tool`, about `subject` (e.g. the command).
    Permission {
        tool: Option<String>,
        subject: Option<String>,
    },
    /// The agent is busy (a spinner, "esc to interrupt").
    Working,
    /// The agent's input box, nothing running.
    Prompt,
    /// The agent's last turn failed: its error is on the screen above the empty input box.
    Errored { reason: String },
    /// A configured prompt pattern matched (plain programs).
    PatternPrompt,
    /// Nothing recognisable.
    Unknown,
}

/// What the agent's status file says (Claude Code's `~/.claude/sessions/<pid>.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    Busy,
    Idle,
    Waiting { permission: bool },
}

/// The process's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessLife {
    Running,
    Ended {
        code: Option<i32>,
        signal: Option<String>,
    },
}

/// One session's inputs and its last decided state.
#[derive(Debug, Clone)]
pub struct Machine {
    life: ProcessLife,
    /// When the process started (set by [`Machine::started`], else the first decision).
    born: Option<Instant>,
    hook: Option<(HookSignal, Instant)>,
    /// The tool hooks last reported, kept while the turn runs.
    hook_tool: Option<String>,
    file: Option<FileStatus>,
    /// The program's own record (OSC 7501).
    program: Option<ProgramStatus>,
    /// Since when its record has said `working`.
    program_working_since: Option<Instant>,
    screen: Option<(ScreenSignal, Instant)>,
    last_output: Option<Instant>,
    permission: Option<PermissionRequest>,
    transcript_tool: Option<String>,
    /// The agent has worked at least once (so a prompt means `waiting_input`, not `idle`).
    worked: bool,
    /// Whether its terminal's output reaches the machine (not so for a process found in the
    /// process table or an unbridged tmux pane: their silence says nothing).
    sees_output: bool,
    current: StateDetail,
}

impl Default for Machine {
    fn default() -> Self {
        Self {
            life: ProcessLife::Running,
            born: None,
            hook: None,
            hook_tool: None,
            file: None,
            program: None,
            program_working_since: None,
            screen: None,
            last_output: None,
            permission: None,
            transcript_tool: None,
            worked: false,
            sees_output: true,
            current: StateDetail::default(),
        }
    }
}

/// The machine's answer to an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub detail: StateDetail,
    /// Whether the state (or its tool, request or reason) changed.
    pub changed: bool,
    /// Ask again at this time, when nothing else happens first.
    pub recheck_at: Option<Instant>,
}

impl Machine {
    pub fn current(&self) -> &StateDetail {
        &self.current
    }

    pub fn pending_permission(&self) -> Option<&PermissionRequest> {
        self.permission.as_ref()
    }

    pub fn set_life(&mut self, life: ProcessLife) {
        self.life = life;
    }

    /// The session's terminal is out of reach: without another source, all that is known is
    /// that the process runs.
    pub fn output_unseen(&mut self) {
        self.sees_output = false;
    }

    /// When the process started (it may be long before the supervisor saw it).
    pub fn started(&mut self, at: Instant) {
        self.born = Some(at);
    }

    pub fn hook(&mut self, signal: HookSignal, now: Instant) {
        match &signal {
            HookSignal::ToolStarted { tool } => self.hook_tool = Some(tool.clone()),
            HookSignal::ToolFinished => self.hook_tool = None,
            HookSignal::PromptSubmitted
            | HookSignal::TurnEnded
            | HookSignal::TurnFailed { .. }
            | HookSignal::SessionStarted
            | HookSignal::SessionEnded => self.hook_tool = None,
            HookSignal::Waiting { .. } => {}
        }
        if matches!(
            signal,
            HookSignal::PromptSubmitted | HookSignal::ToolStarted { .. }
        ) {
            self.worked = true;
        }
        // A reminder does not replace what the agent last did.
        if matches!(signal, HookSignal::Waiting { .. }) && self.hook.is_some() {
            if let Some((HookSignal::TurnEnded, _)) = self.hook {
                return;
            }
        }
        self.hook = Some((signal, now));
    }

    pub fn status_file(&mut self, status: Option<FileStatus>) {
        if matches!(status, Some(FileStatus::Busy)) {
            self.worked = true;
        }
        self.file = status;
    }

    /// The program reported its status to its terminal at `now` (`None`: it cleared its
    /// record). Blocked or done is work done; `working` is once it lasted [`PROGRAM_BLIP`].
    pub fn program(&mut self, status: Option<ProgramStatus>, now: Instant) {
        let working = |s: &Option<ProgramStatus>| {
            s.as_ref().is_some_and(|s| s.state == ProgramState::Working)
        };
        if let Some(since) = self.program_working_since {
            if now.saturating_duration_since(since) >= PROGRAM_BLIP {
                self.worked = true;
            }
        }
        if status
            .as_ref()
            .is_some_and(|s| matches!(s.state, ProgramState::Blocked | ProgramState::Done))
        {
            self.worked = true;
        }
        if !working(&status) {
            self.program_working_since = None;
        } else if !working(&self.program) {
            self.program_working_since = Some(now);
        }
        self.program = status;
    }

    pub fn screen(&mut self, signal: ScreenSignal, now: Instant) {
        if matches!(signal, ScreenSignal::Working | ScreenSignal::Errored { .. }) {
            self.worked = true;
        }
        let same = self.screen.as_ref().is_some_and(|(s, _)| *s == signal);
        if !same {
            self.screen = Some((signal, now));
        }
    }

    /// The terminal printed at `at` (now, or before the supervisor adopted the session).
    pub fn output(&mut self, at: Instant) {
        self.last_output = Some(self.last_output.map_or(at, |t| t.max(at)));
    }

    pub fn permission(&mut self, request: Option<PermissionRequest>) {
        self.permission = request;
    }

    pub fn transcript_tool(&mut self, tool: Option<String>) {
        self.transcript_tool = tool;
    }

    /// Decides the state now. `since` is the time text for a new state.
    pub fn decide(&mut self, now: Instant, since: impl FnOnce() -> String) -> Decided {
        let born = *self.born.get_or_insert(now);
        let (mut detail, recheck_at) = self.fuse(now, born);
        detail.program = self.program.clone().map(Box::new);
        let changed = detail.state != self.current.state
            || detail.tool != self.current.tool
            || detail.reason != self.current.reason
            || detail.exit_code != self.current.exit_code
            || detail.permission.as_ref().map(|p| &p.id)
                != self.current.permission.as_ref().map(|p| &p.id);
        detail.since = if detail.state != self.current.state || self.current.since.is_empty() {
            since()
        } else {
            self.current.since.clone()
        };
        let changed = changed
            || detail.sources != self.current.sources
            || detail.program != self.current.program;
        self.current = detail.clone();
        Decided {
            detail,
            changed,
            recheck_at,
        }
    }

    /// Whether the agent had said its work was done before its process ended (a turn ended,
    /// its session ended, or it sat waiting for input).
    fn finished_work(&self) -> bool {
        let hooks_done = matches!(
            self.hook,
            Some((HookSignal::TurnEnded | HookSignal::SessionEnded, _))
        );
        let waiting = self.worked
            && matches!(
                self.current.state,
                AgentState::WaitingInput | AgentState::Idle | AgentState::Completed
            );
        hooks_done || waiting
    }

    /// Whether the program's record says it waits for a permission.
    fn program_asks(&self) -> bool {
        self.program.as_ref().is_some_and(|p| {
            p.state == ProgramState::Blocked && p.kind == Some(BlockedKind::Permission)
        })
    }

    /// The state a program's own record gives.
    fn by_program(&self, program: &ProgramStatus) -> StateDetail {
        use AgentState as S;
        let mut d = StateDetail {
            sources: vec![StateSource::Program],
            ..Default::default()
        };
        match (program.state, program.kind) {
            (ProgramState::Working, _) => {
                d.state = S::Working;
                d.tool = self.transcript_tool.clone();
            }
            (ProgramState::Blocked, Some(BlockedKind::Permission)) => {
                d.state = S::WaitingPermission;
                d.tool = program
                    .permission_subject()
                    .map(|(tool, _)| tool.to_owned());
            }
            (ProgramState::Blocked, _) => {
                d.state = S::WaitingInput;
                d.reason = program.message.clone();
            }
            (ProgramState::Idle, _) if !self.worked => d.state = S::Idle,
            (ProgramState::Idle | ProgramState::Done, _) => d.state = S::WaitingInput,
            (ProgramState::Error, _) => {
                d.state = S::Errored;
                d.reason = Some(
                    program
                        .message
                        .clone()
                        .unwrap_or_else(|| "the program reported an error".into()),
                );
            }
        }
        d
    }

    fn fuse(&self, now: Instant, born: Instant) -> (StateDetail, Option<Instant>) {
        use AgentState as S;
        let detail = |state: S, sources: &[StateSource]| StateDetail {
            state,
            sources: sources.to_vec(),
            ..Default::default()
        };
        // 1. The process.
        if let ProcessLife::Ended { code, signal } = &self.life {
            let mut d = detail(
                if *code == Some(0) && self.finished_work() {
                    S::Completed
                } else {
                    S::Exited
                },
                &[StateSource::Process],
            );
            d.exit_code = *code;
            d.reason = signal.as_ref().map(|s| format!("killed by {s}"));
            return (d, None);
        }
        // 2. A pending permission request.
        if let Some(p) = &self.permission {
            let sources: &[StateSource] = match p.channel {
                paddock_proto::agent::AnswerChannel::Hook => &[StateSource::Hooks],
                paddock_proto::agent::AnswerChannel::Terminal if self.program_asks() => {
                    &[StateSource::Program]
                }
                // --- begin: Gemini CLI (issue 15, item 4) ---
                // A hook announced it (Gemini CLI's ToolPermission); its answer is typed.
                paddock_proto::agent::AnswerChannel::Terminal
                    if matches!(
                        self.hook,
                        Some((HookSignal::Waiting { permission: true }, _))
                    ) =>
                {
                    &[StateSource::Hooks]
                }
                // --- end: Gemini CLI ---
                paddock_proto::agent::AnswerChannel::Terminal => &[StateSource::Screen],
            };
            let mut d = detail(S::WaitingPermission, sources);
            d.tool = Some(p.tool.clone());
            d.permission = Some(Box::new(p.clone()));
            return (d, None);
        }
        let screen = self.screen.as_ref();
        let quiet_for = self.last_output.map(|t| now.saturating_duration_since(t));
        let screen_prompt_settled = |at: Instant| {
            let settled = at.max(self.last_output.unwrap_or(at)) + SCREEN_SETTLE;
            if now >= settled {
                Ok(())
            } else {
                Err(settled)
            }
        };
        // 3. Hooks.
        if let Some((signal, at)) = &self.hook {
            if let Some((ScreenSignal::Permission { tool, .. }, _)) = screen {
                // The hook gave up (or was never asked) but the prompt is on the screen.
                let mut d = detail(
                    S::WaitingPermission,
                    &[StateSource::Screen, StateSource::Hooks],
                );
                d.tool = tool.clone();
                return (d, None);
            }
            let d = match signal {
                HookSignal::SessionStarted => detail(
                    if self.worked {
                        S::WaitingInput
                    } else {
                        S::Idle
                    },
                    &[StateSource::Hooks],
                ),
                HookSignal::PromptSubmitted
                | HookSignal::ToolStarted { .. }
                | HookSignal::ToolFinished => {
                    let mut d = detail(S::Working, &[StateSource::Hooks]);
                    d.tool = self.hook_tool.clone();
                    d
                }
                HookSignal::Waiting { permission: true } => {
                    detail(S::WaitingPermission, &[StateSource::Hooks])
                }
                HookSignal::Waiting { permission: false } | HookSignal::TurnEnded => {
                    detail(S::WaitingInput, &[StateSource::Hooks])
                }
                HookSignal::TurnFailed { reason } => {
                    let mut d = detail(S::Errored, &[StateSource::Hooks]);
                    d.reason = Some(reason.clone());
                    d
                }
                HookSignal::SessionEnded => detail(S::Idle, &[StateSource::Hooks]),
            };
            // An interrupt ends a turn without a hook: the screen's input prompt, settled
            // after the last hook and the last output, says so. So does a permission prompt
            // declined with no request left pending (Gemini CLI sends no hook after it).
            if d.state == S::Working || d.state == S::WaitingPermission {
                if let Some((ScreenSignal::Prompt, shown)) = screen {
                    if shown >= at {
                        match screen_prompt_settled(*shown) {
                            Ok(()) => {
                                return (
                                    detail(
                                        S::WaitingInput,
                                        &[StateSource::Screen, StateSource::Hooks],
                                    ),
                                    None,
                                )
                            }
                            Err(when) => return (d, Some(when)),
                        }
                    }
                }
            }
            return (d, None);
        }
        // 4. The program's own reports.
        if let Some(program) = &self.program {
            return (self.by_program(program), None);
        }
        // 5. The status file.
        if let Some(file) = &self.file {
            let screen_tool = match screen {
                Some((ScreenSignal::Permission { tool, .. }, _)) => Some(tool.clone()),
                _ => None,
            };
            let mut d = match (file, screen_tool) {
                (_, Some(tool)) => {
                    let mut d = detail(
                        S::WaitingPermission,
                        &[StateSource::Screen, StateSource::StatusFile],
                    );
                    d.tool = tool;
                    d
                }
                (FileStatus::Waiting { permission: true }, None) => {
                    detail(S::WaitingPermission, &[StateSource::StatusFile])
                }
                (FileStatus::Waiting { permission: false }, None) => {
                    detail(S::WaitingInput, &[StateSource::StatusFile])
                }
                (FileStatus::Busy, None) => detail(S::Working, &[StateSource::StatusFile]),
                (FileStatus::Idle, None) => detail(
                    if self.worked {
                        S::WaitingInput
                    } else {
                        S::Idle
                    },
                    &[StateSource::StatusFile],
                ),
            };
            if d.state == S::Working {
                d.tool = self.transcript_tool.clone();
                if d.tool.is_some() {
                    d.sources.push(StateSource::Transcript);
                }
            }
            return (d, None);
        }
        // 6. The screen of a recognised agent.
        match screen {
            Some((ScreenSignal::Permission { tool, .. }, _)) => {
                let mut d = detail(S::WaitingPermission, &[StateSource::Screen]);
                d.tool = tool.clone();
                return (d, None);
            }
            Some((ScreenSignal::Working, _)) => {
                let mut d = detail(S::Working, &[StateSource::Screen]);
                d.tool = self.transcript_tool.clone();
                return (d, None);
            }
            Some((ScreenSignal::Errored { reason }, _)) => {
                let mut d = detail(S::Errored, &[StateSource::Screen]);
                d.reason = Some(reason.clone());
                return (d, None);
            }
            Some((ScreenSignal::Prompt, _)) => {
                return (
                    detail(
                        if self.worked {
                            S::WaitingInput
                        } else {
                            S::Idle
                        },
                        &[StateSource::Screen],
                    ),
                    None,
                )
            }
            _ => {}
        }
        // 7. Output.
        match quiet_for {
            None if !self.sees_output => (detail(S::Running, &[StateSource::Process]), None),
            None if now < born + OUTPUT_WORKING => (
                detail(S::Starting, &[StateSource::Process]),
                Some(born + OUTPUT_WORKING),
            ),
            None => (detail(S::Idle, &[StateSource::Output]), None),
            Some(q) if q < OUTPUT_WORKING => {
                let at = self.last_output.map(|t| t + OUTPUT_WORKING);
                (detail(S::Working, &[StateSource::Output]), at)
            }
            Some(_) => {
                if matches!(screen, Some((ScreenSignal::PatternPrompt, _))) {
                    (
                        detail(S::WaitingInput, &[StateSource::Screen, StateSource::Output]),
                        None,
                    )
                } else {
                    (detail(S::Idle, &[StateSource::Output]), None)
                }
            }
        }
    }
}

/// The monotonic instant of a wall-clock time (RFC 3339) such as a holder reports, given
/// the same moment on both clocks; `None` for text that is not a time. A time in the future
/// (clocks disagree by a little) is `now`.
pub fn instant_of(text: &str, now: Instant, wall_now: SystemTime) -> Option<Instant> {
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    let ago = wall_now.duration_since(at).unwrap_or_default();
    Some(now.checked_sub(ago).unwrap_or(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::agent::AnswerChannel;

    fn decide(m: &mut Machine, now: Instant) -> Decided {
        m.decide(now, || "t".into())
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
        m.hook(
            HookSignal::ToolStarted {
                tool: "Bash".into(),
            },
            t0,
        );
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
        let d = decide(&mut m, t1);
        assert_eq!(
            d.detail.state,
            AgentState::WaitingPermission,
            "not settled yet"
        );
        let recheck = d.recheck_at.expect("asks to be checked again");
        let d = decide(&mut m, recheck).detail;
        assert_eq!(
            (d.state, d.sources),
            (
                AgentState::WaitingInput,
                vec![StateSource::Screen, StateSource::Hooks]
            )
        );
    }
    // --- end: Gemini CLI ---

    #[test]
    fn a_prompt_left_on_screen_after_the_hook_gave_up_is_still_a_permission_wait() {
        let t0 = Instant::now();
        let mut m = Machine::default();
        m.hook(
            HookSignal::ToolStarted {
                tool: "Bash".into(),
            },
            t0,
        );
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

    // What the state machine guarantees (docs/design/supervisor.md, "What the state machine
    // guarantees"), one test each, on a fake clock: every `Instant` below is `t0` plus a
    // duration, and nothing sleeps.

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
        m.hook(
            HookSignal::ToolStarted {
                tool: "Bash".into(),
            },
            t0,
        );
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
                        [None, Some(FileStatus::Busy), Some(FileStatus::Idle)]
                            [rng.below(3) as usize]
                            .clone(),
                    ),
                    5 => {
                        m.permission((rng.below(2) == 0).then(|| request(AnswerChannel::Terminal)))
                    }
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
}
