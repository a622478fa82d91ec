//! What the tray shows, as plain data: the sessions that need their owner, in the order
//! `paddock_core::needs` decides (waiting for permission, then for input, then errored), each
//! pending permission with its own Approve / Deny, and how many wait. Pure, so it is tested
//! without a display; `tray.rs` turns it into menus.
use paddock_core::needs::{needing_owner, Need};
use paddock_proto::agent::PermissionRequest;
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
    /// The host holds every notification: the "Pause notifications" check box.
    pub paused: bool,
}

impl TrayModel {
    pub fn build(sessions: &[SessionView], pending: &[PermissionRequest]) -> Self {
        let needy = needing_owner(sessions, pending);
        let entries = needy
            .iter()
            .map(|n| {
                let what = match n.need {
                    Need::Permission(Some(p)) => format!("asks to run {}", p.tool),
                    Need::Permission(None) => "asks for permission".to_owned(),
                    Need::Input => "waits for your answer".to_owned(),
                    Need::Errored(Some(r)) => format!("errored: {}", shorten(r, 40)),
                    Need::Errored(None) => "errored".to_owned(),
                };
                Entry {
                    session: n.session.id.to_string(),
                    label: format!("{}: {what}", shorten(&n.session.name, 32)),
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
            paused: false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(id: &str, state: &str, since: &str, extra: serde_json::Value) -> SessionView {
        let mut v = json!({
            "id": id, "name": format!("{id}-task"), "command": "claude", "cwd": "/w", "pid": 1,
            "state": state, "since": since, "started_at": "2026-12-06T10:00:00Z",
            "clients": 0, "backend": "holder", "agent": "claude", "cpu": null, "rss": null,
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::from_value(v).expect("a session view")
    }

    fn permission(id: &str, session: &str, tool: &str) -> PermissionRequest {
        serde_json::from_value(json!({
            "id": id, "session": session, "tool": tool, "input": {"command": "ls"},
            "created_at": "2026-12-06T10:00:00Z", "expires_at": "2026-12-06T10:10:00Z",
            "channel": "hook",
        }))
        .expect("a permission request")
    }

    #[test]
    fn sessions_needing_the_owner_come_first_permission_then_input_then_errored() {
        let sessions = [
            session("a", "working", "2026-12-06T10:00:00Z", json!({})),
            session(
                "b",
                "errored",
                "2026-12-06T10:00:01Z",
                json!({"reason": "API error 529"}),
            ),
            session("c", "waiting_input", "2026-12-06T10:00:02Z", json!({})),
            session("d", "waiting_permission", "2026-12-06T10:00:05Z", json!({})),
            session("e", "waiting_permission", "2026-12-06T10:00:03Z", json!({})),
            session("f", "idle", "2026-12-06T10:00:00Z", json!({})),
        ];
        let pending = [permission("p1", "d", "Bash"), permission("p2", "e", "Edit")];
        let m = TrayModel::build(&sessions, &pending);
        let order: Vec<&str> = m.entries.iter().map(|e| e.session.as_str()).collect();
        // The permission waiting longest first; working and idle sessions are not listed.
        assert_eq!(order, ["e", "d", "c", "b"]);
        assert_eq!(m.entries[0].label, "e-task: asks to run Edit");
        assert_eq!(m.entries[0].permission.as_deref(), Some("p2"));
        assert_eq!(m.entries[1].permission.as_deref(), Some("p1"));
        assert_eq!(m.entries[2].label, "c-task: waits for your answer");
        assert_eq!(m.entries[2].permission, None);
        assert_eq!(m.entries[3].label, "b-task: errored: API error 529");
        // Two permissions and one question wait; the errored one is listed, not counted.
        assert_eq!(m.waiting, 3);
        assert_eq!(m.title().as_deref(), Some("3"));
        assert_eq!(m.tooltip(), "Paddock: 6 sessions, 3 need you");
    }

    #[test]
    fn nothing_waiting_shows_no_count() {
        let m = TrayModel::build(
            &[session("a", "working", "2026-12-06T10:00:00Z", json!({}))],
            &[],
        );
        assert!(m.entries.is_empty());
        assert_eq!(m.title(), None);
        assert_eq!(m.tooltip(), "Paddock: 1 session, none waiting");
        assert_eq!(
            TrayModel::build(&[], &[]).tooltip(),
            "Paddock: no agent sessions"
        );
    }

    #[test]
    fn a_long_name_is_cut_with_an_ellipsis() {
        let long = "x".repeat(80);
        let mut s = session("a", "waiting_input", "2026-12-06T10:00:00Z", json!({}));
        s.name = long;
        let m = TrayModel::build(&[s], &[]);
        assert!(
            m.entries[0]
                .label
                .starts_with(&format!("{}…:", "x".repeat(31))),
            "{}",
            m.entries[0].label
        );
    }
}
