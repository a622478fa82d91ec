//! Replays a recording through the supervisor's screen path for a session without hooks and
//! compares the state it decides with the agent's own labels.
//!
//! The screen path, as `core::holders` runs it for a held session: every output chunk goes
//! into the holder's screen model ([`paddock_host::model::ScreenModel`], vt100) and marks the
//! state machine's output time; the screen's rows are then read by the agent's adapter
//! ([`paddock_core::agents::classify_screen`]); a permission prompt on the screen opens a
//! request answered by typing, withdrawn when the screen shows the agent working or at its
//! prompt; the signal goes to [`paddock_core::state::Machine::screen`]. The OSC 7501 reports
//! are not fed to it (the holder takes them out of the stream; this measures the screen alone).
//!
//! The label: a second state machine fed only the agent's OSC 7501 reports, so the report is
//! read exactly as the supervisor reads it (`blocked:permission` is `waiting_permission`,
//! `done` is `waiting_input`, ...). Gemini CLI sends no OSC 7501: its label machine is fed
//! its hook payloads instead, read by [`paddock_core::agents::hook_event`] and applied as
//! `core::hooks` applies them (a `ToolPermission` notification opens a request, any later
//! hook but a reminder withdraws it).
//!
//! Samples every [`SAMPLE`], from the first report to the process's end, while the agent
//! holds a record (once it cleared it, on its way out, it says nothing), except within
//! [`SETTLE`] after the label's state changed (the screen draws after the agent reports).

use super::corpus::Recording;
use paddock_core::state::{Machine, ScreenSignal};
use paddock_host::model::ScreenModel;
use paddock_proto::agent::{AgentState, AnswerChannel, PermissionRequest};
use paddock_proto::Size;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often the states are compared.
pub const SAMPLE: Duration = Duration::from_millis(100);
/// Samples this soon after the label's state changed are not compared: the agents draw
/// after they report. The longest lag on the corpus is Codex 0.169.0's approval prompt, drawn
/// 706 ms after its `blocked` report (its "Running" cell comes first); Claude Code's turn
/// end shows up to 515 ms after its `done` (the Stop hook's spinner).
pub const SETTLE: Duration = Duration::from_millis(750);

/// How many samples agreed, per labelled state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agreement {
    /// Label state → (agreeing samples, samples).
    pub per_state: BTreeMap<String, (u64, u64)>,
    /// (label, screen) → samples, for the samples that disagreed.
    pub misses: BTreeMap<(String, String), u64>,
}

impl Agreement {
    pub fn add(&mut self, other: &Agreement) {
        for (k, (a, n)) in &other.per_state {
            let e = self.per_state.entry(k.clone()).or_default();
            e.0 += a;
            e.1 += n;
        }
        for (k, n) in &other.misses {
            *self.misses.entry(k.clone()).or_default() += n;
        }
    }

    /// (agreeing, samples) over every state.
    pub fn overall(&self) -> (u64, u64) {
        self.per_state
            .values()
            .fold((0, 0), |(a, n), (x, y)| (a + x, n + y))
    }

    /// The lowest share (0..=1) of any state, and the overall share.
    pub fn worst_and_overall(&self) -> (f64, f64) {
        let share = |(a, n): (u64, u64)| if n == 0 { 1.0 } else { a as f64 / n as f64 };
        let worst = self
            .per_state
            .values()
            .map(|v| share(*v))
            .fold(1.0, f64::min);
        (worst, share(self.overall()))
    }
}

fn name(s: AgentState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{s:?}"))
}

/// What one recording's screens agree with its labels.
pub fn replay(rec: &Recording) -> Agreement {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let adapter = paddock_core::agents::adapter(Some(&rec.agent), &Default::default());
    let mut model = ScreenModel::new(Size {
        cols: rec.cols,
        rows: rec.rows,
    });
    let mut screen = Machine::default();
    let mut label = Machine::default();
    screen.started(t0);
    label.started(t0);
    let mut request_open = false;
    let stop = rec.exited.unwrap_or(rec.end).min(rec.end);
    let labels = labels(rec);
    let first_label = labels.first().map(|(t, _)| *t);
    let (mut out_i, mut rep_i) = (0, 0);
    let mut label_state: Option<AgentState> = None;
    let mut label_changed = 0u64;
    let mut result = Agreement::default();
    let mut tick = 0u64;
    while tick <= stop {
        // Everything that happened up to this sample, in time order.
        loop {
            let next_out = rec
                .output
                .get(out_i)
                .map(|(t, _)| *t)
                .filter(|t| *t <= tick);
            let next_rep = labels.get(rep_i).map(|(t, _)| *t).filter(|t| *t <= tick);
            match (next_out, next_rep) {
                (Some(o), r) if r.is_none_or(|r| o <= r) => {
                    let (t, text) = &rec.output[out_i];
                    out_i += 1;
                    model.feed(text.as_bytes());
                    screen.output(at(*t));
                    let rows = model.text().rows;
                    let signal = paddock_core::agents::classify_screen(adapter.as_ref(), &rows);
                    match (&signal, request_open) {
                        (ScreenSignal::Permission { tool, .. }, false) => {
                            screen.permission(Some(terminal_request(tool.as_deref())));
                            request_open = true;
                        }
                        (
                            ScreenSignal::Working
                            | ScreenSignal::Prompt
                            | ScreenSignal::Errored { .. },
                            true,
                        ) => {
                            screen.permission(None);
                            request_open = false;
                        }
                        _ => {}
                    }
                    screen.screen(signal, at(*t));
                }
                (_, Some(r)) => {
                    let (_, event) = &labels[rep_i];
                    rep_i += 1;
                    let labelled = match event {
                        Label::Report(status) => {
                            label.program((*status).clone(), at(r));
                            // A cleared record labels nothing: the agent no longer says
                            // what it does (it is leaving), and the machine's fallback is no
                            // report.
                            status.is_some()
                        }
                        Label::Hook(payload) => {
                            hook(&mut label, &rec.agent, payload, at(r));
                            true
                        }
                    };
                    let state = label.decide(at(r), String::new).detail.state;
                    let state = labelled.then_some(state);
                    if label_state != state {
                        label_state = state;
                        label_changed = r;
                    }
                }
                (None, None) => break,
                (Some(_), None) => unreachable!("matched by the first arm"),
            }
        }
        let settled = tick >= label_changed + SETTLE.as_millis() as u64;
        if let (Some(want), true, true) =
            (label_state, settled, first_label.is_some_and(|f| tick >= f))
        {
            let got = screen.decide(at(tick), String::new).detail.state;
            let e = result.per_state.entry(name(want)).or_default();
            e.1 += 1;
            if got == want {
                e.0 += 1;
            } else {
                *result.misses.entry((name(want), name(got))).or_default() += 1;
            }
        }
        tick += SAMPLE.as_millis() as u64;
    }
    result
}

/// One thing that labels a recording.
enum Label<'a> {
    Report(&'a Option<paddock_proto::program_status::ProgramStatus>),
    Hook(&'a serde_json::Value),
}

/// The recording's labels in time order: its OSC 7501 reports and its hook payloads kept
/// whole (only Gemini CLI's are).
fn labels(rec: &Recording) -> Vec<(u64, Label<'_>)> {
    let mut out: Vec<(u64, Label<'_>)> = rec
        .reports
        .iter()
        .map(|(t, s)| (*t, Label::Report(s)))
        .chain(rec.hook_payloads.iter().map(|(t, p)| (*t, Label::Hook(p))))
        .collect();
    out.sort_by_key(|(t, _)| *t);
    out
}

/// Applies a hook call to `m` as `core::hooks` does for a session.
fn hook(m: &mut Machine, agent: &str, payload: &serde_json::Value, now: Instant) {
    use paddock_core::agents::HookEvent;
    match paddock_core::agents::hook_event(agent, payload).0 {
        HookEvent::Signal(signal) => {
            if !matches!(signal, paddock_core::state::HookSignal::Waiting { .. }) {
                m.permission(None);
            }
            m.hook(signal, now);
        }
        HookEvent::Permission(ask) | HookEvent::TypedPermission(ask) => {
            m.hook(
                paddock_core::state::HookSignal::Waiting { permission: true },
                now,
            );
            m.permission(Some(terminal_request(Some(&ask.tool))));
        }
        HookEvent::Ignored => {}
    }
}

/// The request the supervisor opens for a permission prompt seen on a screen without hooks.
fn terminal_request(tool: Option<&str>) -> PermissionRequest {
    PermissionRequest {
        id: "screen".into(),
        session: paddock_proto::SessionId::from_random(0),
        agent_session: None,
        tool: tool.unwrap_or("tool").to_owned(),
        input: serde_json::Value::Null,
        suggestions: Vec::new(),
        created_at: String::new(),
        expires_at: String::new(),
        channel: AnswerChannel::Terminal,
        questions: Vec::new(),
        outcome: None,
    }
}
