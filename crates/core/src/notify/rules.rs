//! The rules: which changes deserve a notification. Pure: given what a session was and what
//! it is now (and the configuration), say what to tell; the notifier adds cooldowns, quiet
//! hours, presence and delivery.

use super::config::{CustomRule, RulesConfig};
use super::model::NotificationKind;
use paddock_proto::agent::{AgentState, Decision, PermissionRequest};
use paddock_proto::notify::NotificationAction;
use paddock_proto::supervisor::SessionView;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A notification before it has an id and channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub kind: NotificationKind,
    /// The rule's name, for cooldowns and the log.
    pub rule: String,
    pub title: String,
    pub body: String,
    pub request: Option<PermissionRequest>,
}

/// What a permission request says, as a notification: for a question the tool asks the
/// user (AskUserQuestion), the question itself.
pub fn permission(view: Option<&SessionView>, request: &PermissionRequest) -> Draft {
    let name = view.map(|v| v.name.as_str()).unwrap_or("an agent");
    if !request.questions.is_empty() {
        let questions: Vec<&str> = request
            .questions
            .iter()
            .map(|q| q.question.as_str())
            .collect();
        return Draft {
            kind: NotificationKind::Permission,
            rule: "permission".into(),
            title: format!("{name} asks you a question"),
            body: questions.join("\n"),
            request: Some(request.clone()),
        };
    }
    let mut summary = paddock_agents::claude::tools::input_summary(&request.tool, &request.input);
    if summary.is_empty() {
        summary = view.and_then(program_message).unwrap_or_default();
    }
    Draft {
        kind: NotificationKind::Permission,
        rule: "permission".into(),
        title: format!("{name} asks to run {}", request.tool),
        body: if summary.is_empty() {
            format!("{} wants to use {}.", name, request.tool)
        } else {
            summary
        },
        request: Some(request.clone()),
    }
}

/// The buttons of a permission request's notification: Approve and Deny; for one question
/// with options (AskUserQuestion), each option, whose token answers the question with it
/// ([`Decision::Answer`]), and Deny. Several questions cannot be answered with one tap: they
/// get Approve (which shows them in the agent's terminal) and Deny.
pub fn permission_actions(request: &PermissionRequest) -> Vec<NotificationAction> {
    let deny = NotificationAction {
        key: "deny".into(),
        label: "Deny".into(),
        decision: Decision::Deny { message: None },
        takes_message: true,
    };
    match request.questions.as_slice() {
        [q] if !q.options.is_empty() => q
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| NotificationAction {
                key: format!("answer-{i}"),
                label: o.label.clone(),
                decision: Decision::Answer {
                    answers: [(q.question.clone(), o.label.clone())].into(),
                },
                takes_message: false,
            })
            .chain([deny])
            .collect(),
        _ => vec![
            NotificationAction {
                key: "allow".into(),
                label: "Approve".into(),
                decision: Decision::Allow,
                takes_message: false,
            },
            deny,
        ],
    }
}

/// What the rules remember about each session.
#[derive(Default)]
pub struct Tracker {
    sessions: HashMap<paddock_proto::SessionId, Seen>,
    /// The resource levels of each session and the host.
    pub resources: super::resources::Thresholds,
}

struct Seen {
    state: AgentState,
    /// When the current stretch of work began.
    working_since: Option<Instant>,
}

impl Tracker {
    /// A session changed (or was seen again): the notifications it deserves, at most one per
    /// rule. The first sight of a session notifies nothing (a restart of the supervisor must
    /// not repeat old news).
    pub fn observe(&mut self, rules: &RulesConfig, view: &SessionView, now: Instant) -> Vec<Draft> {
        let state = view.status.state;
        let Some(seen) = self.sessions.get_mut(&view.id) else {
            self.sessions.insert(
                view.id.clone(),
                Seen {
                    state,
                    working_since: (state == AgentState::Working).then_some(now),
                },
            );
            return Vec::new();
        };
        let before = seen.state;
        if before == state {
            return Vec::new();
        }
        let worked = seen.working_since.map(|t| now.duration_since(t));
        seen.state = state;
        match state {
            AgentState::Working | AgentState::WaitingPermission => {
                seen.working_since.get_or_insert(now);
            }
            _ => seen.working_since = None,
        }
        let mut out = Vec::new();
        let name = &view.name;
        let done = matches!(
            state,
            AgentState::WaitingInput | AgentState::Idle | AgentState::Completed
        );
        let long = worked.filter(|w| *w >= rules.long_task_after);
        if rules.long_task && done && long.is_some() {
            out.push(Draft {
                kind: NotificationKind::TaskFinished,
                rule: "long_task".into(),
                title: format!("{name} is done"),
                body: format!(
                    "It worked for {} and now {}.",
                    minutes(long.unwrap_or_default()),
                    words(state)
                ),
                request: None,
            });
        } else if rules.waiting_input
            && state == AgentState::WaitingInput
            && matches!(before, AgentState::Working | AgentState::WaitingPermission)
        {
            out.push(Draft {
                kind: NotificationKind::WaitingInput,
                rule: "waiting_input".into(),
                title: format!("{name} waits for you"),
                body: view
                    .status
                    .reason
                    .clone()
                    .or_else(|| program_message(view))
                    .unwrap_or_else(|| "It finished its turn and waits for your input.".into()),
                request: None,
            });
        }
        if rules.exited_abnormally && state == AgentState::Exited {
            let how = match view.status.exit_code {
                Some(0) => None,
                Some(c) if c > 128 => Some(format!("was killed by signal {}", c - 128)),
                Some(c) => Some(format!("exited with code {c}")),
                None => view.status.reason.clone().map(|r| format!("exited ({r})")),
            };
            if let Some(how) = how {
                out.push(Draft {
                    kind: NotificationKind::ExitedAbnormally,
                    rule: "exited_abnormally".into(),
                    title: format!("{name} {how}"),
                    body: format!("{} in {}", view.command, view.cwd),
                    request: None,
                });
            }
        }
        if rules.errored && state == AgentState::Errored {
            out.push(Draft {
                kind: NotificationKind::Errored,
                rule: "errored".into(),
                title: format!("{name} hit an error"),
                body: view
                    .status
                    .reason
                    .clone()
                    .unwrap_or_else(|| "It reports a failure it cannot get past.".into()),
                request: None,
            });
        }
        for rule in &rules.custom {
            if custom_matches(rule, view) {
                out.push(Draft {
                    kind: NotificationKind::Custom,
                    rule: format!("custom:{}", rule.name),
                    title: format!("{name}: {}", rule.name),
                    body: format!("{name} is now {}.", words(state)),
                    request: None,
                });
            }
        }
        out
    }

    /// A session is gone.
    pub fn forget(&mut self, id: &paddock_proto::SessionId) {
        self.sessions.remove(id);
    }
}

/// Whether an owner's rule matches a session that just changed state. A rule with an
/// `output` pattern is matched by the screen ([`super::output`]), not here.
fn custom_matches(rule: &CustomRule, view: &SessionView) -> bool {
    rule.output.is_none() && custom_conditions(rule, view)
}

/// Whether a session meets a rule's conditions other than its output pattern.
pub(crate) fn custom_conditions(rule: &CustomRule, view: &SessionView) -> bool {
    let state_ok = rule
        .state
        .as_deref()
        .is_none_or(|s| s == view.status.state.to_string());
    let agent_ok = rule
        .agent
        .as_deref()
        .is_none_or(|a| view.agent.as_deref() == Some(a));
    let name_ok = rule
        .session
        .as_deref()
        .is_none_or(|g| paddock_monitor::glob_match(g, &view.name));
    let cwd_ok = rule
        .cwd
        .as_deref()
        .is_none_or(|g| paddock_monitor::glob_match(g, &view.cwd));
    state_ok && agent_ok && name_ok && cwd_ok
}

/// The program's own message (OSC 7501) when its report decided the state: the words it
/// chose for what it waits for.
fn program_message(view: &SessionView) -> Option<String> {
    if view.status.sources.first() != Some(&paddock_proto::agent::StateSource::Program) {
        return None;
    }
    view.status.program.as_ref()?.message.clone()
}

fn words(state: AgentState) -> &'static str {
    match state {
        AgentState::WaitingInput => "waits for your input",
        AgentState::Idle => "is idle",
        AgentState::Completed => "has completed",
        AgentState::Errored => "has errored",
        AgentState::Exited => "has exited",
        AgentState::Working => "is working",
        AgentState::WaitingPermission => "waits for permission",
        AgentState::Starting => "is starting",
        AgentState::Running => "is running",
    }
}

fn minutes(d: Duration) -> String {
    let m = d.as_secs() / 60;
    if m == 1 {
        "1 minute".into()
    } else {
        format!("{m} minutes")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use paddock_proto::agent::StateDetail;
    use paddock_proto::supervisor::Backend;

    pub(crate) fn view(state: AgentState, exit_code: Option<i32>) -> SessionView {
        SessionView {
            id: paddock_proto::SessionId::parse("s1").expect("id"),
            name: "fix-tests".into(),
            command: "claude".into(),
            cwd: "/home/o/proj".into(),
            pid: 1,
            status: StateDetail {
                state,
                exit_code,
                ..Default::default()
            },
            started_at: String::new(),
            clients: 0,
            backend: Backend::Holder,
            agent: Some("claude".into()),
            cpu: None,
            rss: None,
            paused: false,
            agent_status: None,
            git: None,
        }
    }

    #[test]
    fn a_state_from_the_programs_report_notifies_with_its_message() {
        use paddock_proto::program_status::{ProgramState, ProgramStatus};
        let rules = RulesConfig::default();
        let mut t = Tracker::default();
        let t0 = Instant::now();
        t.observe(&rules, &view(AgentState::Working, None), t0);
        let mut done = view(AgentState::WaitingInput, None);
        done.status.sources = vec![paddock_proto::agent::StateSource::Program];
        done.status.program = Some(Box::new(ProgramStatus {
            state: ProgramState::Done,
            kind: None,
            app: Some("codex".into()),
            message: Some("Tests pass; 3 files changed".into()),
            title: None,
            progress: None,
            id: None,
            at: String::new(),
        }));
        let drafts = t.observe(&rules, &done, t0 + Duration::from_secs(5));
        assert_eq!(kinds(&drafts), vec![NotificationKind::WaitingInput]);
        assert_eq!(drafts[0].body, "Tests pass; 3 files changed");
    }

    fn kinds(d: &[Draft]) -> Vec<NotificationKind> {
        d.iter().map(|d| d.kind).collect()
    }

    #[test]
    fn a_finished_turn_notifies_and_a_long_one_says_how_long() {
        let rules = RulesConfig::default();
        let mut t = Tracker::default();
        let t0 = Instant::now();
        assert!(t
            .observe(&rules, &view(AgentState::Working, None), t0)
            .is_empty());
        let short = t.observe(
            &rules,
            &view(AgentState::WaitingInput, None),
            t0 + Duration::from_secs(30),
        );
        assert_eq!(kinds(&short), vec![NotificationKind::WaitingInput]);
        assert!(t
            .observe(
                &rules,
                &view(AgentState::Working, None),
                t0 + Duration::from_secs(40)
            )
            .is_empty());
        let long = t.observe(
            &rules,
            &view(AgentState::WaitingInput, None),
            t0 + Duration::from_secs(40 + 600),
        );
        assert_eq!(kinds(&long), vec![NotificationKind::TaskFinished]);
        assert!(long[0].body.contains("10 minutes"), "{}", long[0].body);
    }

    #[test]
    fn the_first_sight_of_a_session_repeats_no_old_news() {
        let mut t = Tracker::default();
        let d = t.observe(
            &RulesConfig::default(),
            &view(AgentState::Exited, Some(1)),
            Instant::now(),
        );
        assert!(d.is_empty());
    }

    #[test]
    fn abnormal_exits_and_errors_notify_unless_turned_off() {
        let mut rules = RulesConfig::default();
        let mut t = Tracker::default();
        let now = Instant::now();
        t.observe(&rules, &view(AgentState::Working, None), now);
        let d = t.observe(&rules, &view(AgentState::Exited, Some(137)), now);
        assert_eq!(kinds(&d), vec![NotificationKind::ExitedAbnormally]);
        assert!(d[0].title.contains("signal 9"), "{}", d[0].title);
        let mut t = Tracker::default();
        t.observe(&rules, &view(AgentState::Working, None), now);
        assert!(
            t.observe(&rules, &view(AgentState::Exited, Some(0)), now)
                .is_empty(),
            "code 0 is normal"
        );
        rules.errored = false;
        let mut t = Tracker::default();
        t.observe(&rules, &view(AgentState::Working, None), now);
        assert!(t
            .observe(&rules, &view(AgentState::Errored, None), now)
            .is_empty());
    }

    #[test]
    fn an_owners_rule_matches_state_agent_and_globs() {
        let rules = RulesConfig {
            waiting_input: false,
            custom: vec![CustomRule {
                name: "proj idle".into(),
                state: Some("idle".into()),
                agent: Some("claude".into()),
                cwd: Some("/home/o/*".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut t = Tracker::default();
        let now = Instant::now();
        t.observe(&rules, &view(AgentState::Working, None), now);
        let d = t.observe(&rules, &view(AgentState::Idle, None), now);
        assert_eq!(kinds(&d), vec![NotificationKind::Custom]);
        assert_eq!(d[0].rule, "custom:proj idle");
        assert!(t
            .observe(&rules, &view(AgentState::WaitingInput, None), now)
            .is_empty());
    }
}
