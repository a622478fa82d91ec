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

use paddock_proto::agent::{PermissionRequest, StateDetail};
use paddock_proto::program_status::{ProgramState, ProgramStatus};
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
}

/// The monotonic instant of a wall-clock time (RFC 3339) such as a holder reports, given
/// the same moment on both clocks; `None` for text that is not a time. A time in the future
/// (clocks disagree by a little) is `now`.
pub fn instant_of(text: &str, now: Instant, wall_now: SystemTime) -> Option<Instant> {
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    let ago = wall_now.duration_since(at).unwrap_or_default();
    Some(now.checked_sub(ago).unwrap_or(now))
}

mod fuse;

#[cfg(test)]
mod tests;
