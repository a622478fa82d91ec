//! What the tray shows, as plain data decided from the supervisor's sessions and pending
//! permission requests: the sessions that need their owner first (waiting for permission,
//! then for input, then errored), each pending permission with its own Approve / Deny, and
//! how many wait. Pure, so it is tested without a display; `tray.rs` turns it into menus.
use paddock_proto::agent::{AgentState, PermissionRequest};
use paddock_proto::supervisor::SessionView;

/// Menu ids: `open:<session>`, `allow:<permission>`, `deny:<permission>`, and the fixed ones.
pub const OPEN_PREFIX: &str = "open:";
pub const ALLOW_PREFIX: &str = "allow:";
pub const DENY_PREFIX: &str = "deny:";

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
}

impl TrayModel {
    pub fn build(sessions: &[SessionView], pending: &[PermissionRequest]) -> Self {
        let rank = |s: &SessionView| match s.status.state {
            AgentState::WaitingPermission => Some(0),
            AgentState::WaitingInput => Some(1),
            AgentState::Errored => Some(2),
            _ => None,
        };
        let mut needy: Vec<(u8, &SessionView)> = sessions
            .iter()
            .filter_map(|s| rank(s).map(|r| (r, s)))
            .collect();
        // Most urgent first; within a rank, the one waiting longest first.
        needy.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.status.since.cmp(&b.1.status.since))
        });
        let entries = needy
            .into_iter()
            .map(|(_, s)| {
                let permission = pending
                    .iter()
                    .find(|p| p.session == s.id && p.outcome.is_none())
                    .or(s.status.permission.as_deref());
                let what = match s.status.state {
                    AgentState::WaitingPermission => match permission {
                        Some(p) => format!("asks to run {}", p.tool),
                        None => "asks for permission".to_owned(),
                    },
                    AgentState::WaitingInput => "waits for your answer".to_owned(),
                    _ => match &s.status.reason {
                        Some(r) => format!("errored: {}", shorten(r, 40)),
                        None => "errored".to_owned(),
                    },
                };
                Entry {
                    session: s.id.to_string(),
                    label: format!("{}: {what}", shorten(&s.name, 32)),
                    permission: match s.status.state {
                        AgentState::WaitingPermission => permission.map(|p| p.id.clone()),
                        _ => None,
                    },
                }
            })
            .collect::<Vec<_>>();
        let waiting = entries
            .iter()
            .filter(|e| {
                sessions.iter().any(|s| {
                    s.id.to_string() == e.session
                        && matches!(
                            s.status.state,
                            AgentState::WaitingPermission | AgentState::WaitingInput
                        )
                })
            })
            .count();
        Self {
            entries,
            waiting,
            sessions: sessions.len(),
        }
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
        (self.waiting > 0).then(|| self.waiting.to_string())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    let s = s.lines().next().unwrap_or("");
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
