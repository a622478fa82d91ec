//! The fusion of a session's observations into one state, by the precedence the module
//! header of [`super`] sets out: the process, a pending permission, hooks, the program's
//! own reports, the status file, the screen, then output.

use super::{
    FileStatus, HookSignal, Machine, ProcessLife, ScreenSignal, OUTPUT_WORKING, SCREEN_SETTLE,
};
use paddock_proto::agent::{AgentState, StateDetail, StateSource};
use paddock_proto::program_status::{BlockedKind, ProgramState, ProgramStatus};
use std::time::Instant;

impl Machine {
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

    pub(super) fn fuse(&self, now: Instant, born: Instant) -> (StateDetail, Option<Instant>) {
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
            // The screen's sampler may never have seen the box (answered as it was drawn):
            // then the prompt it shows dates from before the hook, and with no request left
            // pending it counts from the hook.
            let declined = d.state == S::WaitingPermission;
            if d.state == S::Working || declined {
                if let Some((ScreenSignal::Prompt, shown)) = screen {
                    if shown >= at || declined {
                        match screen_prompt_settled((*shown).max(*at)) {
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
