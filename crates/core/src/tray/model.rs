//! What the tray shows, as plain data: the sessions that need their owner, in the order
//! [`crate::needs`] decides (waiting for permission, then for input, then errored), each
//! pending permission with the request its Approve / Deny answers, how many wait, and whether
//! the host holds its notifications.
use crate::needs::{needing_owner, Need};
use crate::needs_watch::NeedsSnapshot;
use paddock_proto::agent::PermissionRequest;
use paddock_proto::supervisor::SessionView;

/// A session's name in a label is cut to this many characters.
const NAME_CHARS: usize = 32;
/// An errored session's reason in a label is cut to this many characters.
const REASON_CHARS: usize = 40;

/// One session line of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub session: String,
    /// What the line says, e.g. "fix-tests: asks to run Bash".
    pub label: String,
    /// The pending permission request this line can answer, if any.
    pub permission: Option<String>,
}

/// The tray's content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrayModel {
    /// Sessions that need their owner, most urgent first.
    pub entries: Vec<Entry>,
    /// How many of them wait (permission or input); errored ones are listed but not counted.
    pub waiting: usize,
    /// Sessions in all, for the tooltip.
    pub sessions: usize,
    /// The host holds every notification: the "Pause notifications" check box.
    pub paused: bool,
}

impl TrayModel {
    /// The tray for these sessions and permission requests; `paused` is the host's pause of
    /// notifications.
    pub fn build(sessions: &[SessionView], pending: &[PermissionRequest], paused: bool) -> Self {
        let needy = needing_owner(sessions, pending);
        let entries = needy
            .iter()
            .map(|n| {
                let what = match n.need {
                    Need::Permission(Some(p)) => format!("asks to run {}", p.tool),
                    Need::Permission(None) => "asks for permission".to_owned(),
                    Need::Input => "waits for your answer".to_owned(),
                    Need::Errored(Some(r)) => format!("errored: {}", shorten(r, REASON_CHARS)),
                    Need::Errored(None) => "errored".to_owned(),
                };
                Entry {
                    session: n.session.id.to_string(),
                    label: format!("{}: {what}", shorten(&n.session.name, NAME_CHARS)),
                    permission: match n.need {
                        Need::Permission(p) => p.map(|p| p.id.clone()),
                        _ => None,
                    },
                }
            })
            .collect();
        Self {
            entries,
            waiting: needy.iter().filter(|n| n.need.waits()).count(),
            sessions: sessions.len(),
            paused,
        }
    }

    /// The tray for what the supervisor said.
    pub fn of(now: &NeedsSnapshot) -> Self {
        Self::build(&now.sessions, &now.pending, now.status.notifications_paused)
    }

    /// Whether the icon shows its "waiting" variant.
    pub fn waits(&self) -> bool {
        self.waiting > 0
    }

    /// The tooltip: how many sessions, how many wait.
    pub fn tooltip(&self) -> String {
        match (self.sessions, self.waiting) {
            (0, _) => "Paddock: no agent sessions".to_owned(),
            (n, 0) => format!("Paddock: {n} session{}, none waiting", plural(n)),
            (n, 1) => format!("Paddock: {n} session{}, 1 needs you", plural(n)),
            (n, w) => format!("Paddock: {n} session{}, {w} need you", plural(n)),
        }
    }

    /// The count shown beside the icon where the platform has a title (macOS, Linux
    /// indicators); nothing when none waits.
    pub fn title(&self) -> Option<String> {
        self.waits().then(|| self.waiting.to_string())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The first line of `s`, at most `max` characters, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    let s = s.lines().next().unwrap_or("");
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::Bus;
    use crate::permissions::{NewRequest, Permissions};
    use crate::registry::Registry;
    use crate::state::HookSignal;
    use paddock_proto::agent::{AgentState, AnswerChannel, Decision};
    use paddock_proto::message::SessionInfo;
    use paddock_proto::SessionId;
    use std::time::Duration;
    use tokio::sync::oneshot;

    /// The supervisor's own registry and permission requests, fed as the supervisor feeds
    /// them: a holder's session, then its agent's hooks and permission requests.
    pub(crate) struct Host {
        pub registry: Registry,
        pub permissions: Permissions,
        /// The agents' hooks waiting for their answers.
        waiting: Vec<oneshot::Receiver<Decision>>,
    }

    impl Host {
        pub fn new() -> Self {
            let bus = Bus::new();
            Self {
                registry: Registry::new(bus.clone()),
                permissions: Permissions::new(bus),
                waiting: Vec::new(),
            }
        }

        /// A running holder's session named `name` (adopted as `holders` does), then the
        /// agent's `hooks`, in order.
        pub fn session(&self, id: &str, name: &str, hooks: &[HookSignal]) -> SessionId {
            // What a holder reports about itself (its `<id>.json`).
            let info: SessionInfo = serde_json::from_value(serde_json::json!({
                "id": id, "name": name, "command": "claude", "args": [], "cwd": "/w",
                "pid": std::process::id(), "holder_pid": std::process::id(),
                "started_at": "2026-12-06T10:00:00Z", "size": {"cols": 80, "rows": 24},
                "state": "running", "clients": 0,
            }))
            .expect("a holder's session info");
            self.registry
                .upsert(SessionView::from_holder(&info, Some("claude".into())));
            for hook in hooks {
                self.registry
                    .observe(&info.id, |m, now| m.hook(hook.clone(), now));
            }
            info.id
        }

        /// The agent in `session` asks to run `tool` through its permission hook.
        pub fn asks(&mut self, session: &SessionId, tool: &str) -> PermissionRequest {
            let (request, answer) = self.permissions.open(NewRequest {
                session: session.clone(),
                agent_session: None,
                tool: tool.to_owned(),
                input: serde_json::json!({"command": "ls"}),
                suggestions: Vec::new(),
                channel: AnswerChannel::Hook,
                timeout: Duration::from_secs(600),
            });
            self.waiting.push(answer);
            self.registry.observe(session, |m, now| {
                m.hook(HookSignal::Waiting { permission: true }, now);
                m.permission(Some(request.clone()));
            });
            request
        }

        pub fn tray(&self, paused: bool) -> TrayModel {
            TrayModel::build(&self.registry.list(), &self.permissions.list(false), paused)
        }

        pub fn state(&self, id: &SessionId) -> AgentState {
            self.registry.get(id).expect("a session").status.state
        }
    }

    #[test]
    fn each_session_that_needs_the_owner_gets_a_line_saying_what_it_needs() {
        let mut host = Host::new();
        host.session("aaaa1111", "busy-task", &[HookSignal::PromptSubmitted]);
        let asks = host.session("bbbb2222", "fix-tests", &[HookSignal::PromptSubmitted]);
        let request = host.asks(&asks, "Bash");
        let input = host.session("cccc3333", "docs", &[HookSignal::TurnEnded]);
        let failed = host.session(
            "dddd4444",
            "refactor",
            &[HookSignal::TurnFailed {
                reason: "API error 529: the service is overloaded, try again in a minute".into(),
            }],
        );
        assert_eq!(host.state(&asks), AgentState::WaitingPermission);
        assert_eq!(host.state(&input), AgentState::WaitingInput);
        assert_eq!(host.state(&failed), AgentState::Errored);

        let m = host.tray(false);
        let lines: Vec<(&str, &str, Option<&str>)> = m
            .entries
            .iter()
            .map(|e| {
                (
                    e.session.as_str(),
                    e.label.as_str(),
                    e.permission.as_deref(),
                )
            })
            .collect();
        // Permission, then input, then errored; the working session is not listed.
        assert_eq!(
            lines,
            [
                (
                    "bbbb2222",
                    "fix-tests: asks to run Bash",
                    Some(request.id.as_str())
                ),
                ("cccc3333", "docs: waits for your answer", None),
                (
                    "dddd4444",
                    "refactor: errored: API error 529: the service is overloade…",
                    None
                ),
            ]
        );
        // One permission and one question wait; the errored one is listed, not counted.
        assert_eq!(m.waiting, 2);
        assert!(m.waits());
        assert_eq!(m.title().as_deref(), Some("2"));
        assert_eq!(m.tooltip(), "Paddock: 4 sessions, 2 need you");
    }

    #[test]
    fn an_answered_request_leaves_the_tray_and_nothing_waiting_shows_no_count() {
        let mut host = Host::new();
        let id = host.session("aaaa1111", "fix-tests", &[HookSignal::PromptSubmitted]);
        let request = host.asks(&id, "Edit");
        assert_eq!(
            host.tray(false).tooltip(),
            "Paddock: 1 session, 1 needs you"
        );

        // Approved (from the tray or anywhere): the supervisor clears it and the agent works.
        host.permissions
            .decide(&request.id, Decision::Allow, "the Paddock app (tray)")
            .expect("decided");
        host.registry.observe(&id, |m, now| {
            m.permission(None);
            m.hook(
                HookSignal::ToolStarted {
                    tool: "Edit".into(),
                },
                now,
            );
        });
        let m = host.tray(true);
        assert!(m.entries.is_empty(), "{m:?}");
        assert!(!m.waits());
        assert_eq!(m.title(), None);
        assert_eq!(m.tooltip(), "Paddock: 1 session, none waiting");
        assert!(m.paused, "the pause is the host's, shown as given");
        assert_eq!(
            Host::new().tray(false).tooltip(),
            "Paddock: no agent sessions"
        );
    }

    #[test]
    fn a_long_name_is_cut_to_its_first_line_with_an_ellipsis() {
        let host = Host::new();
        host.session("aaaa1111", &"x".repeat(80), &[HookSignal::TurnEnded]);
        host.session("bbbb2222", "two\nlines", &[HookSignal::TurnEnded]);
        let labels: Vec<String> = host
            .tray(false)
            .entries
            .into_iter()
            .map(|e| e.label)
            .collect();
        assert!(
            labels.contains(&format!("{}…: waits for your answer", "x".repeat(31))),
            "{labels:?}"
        );
        assert!(
            labels.contains(&"two: waits for your answer".to_owned()),
            "{labels:?}"
        );
    }
}
