//! Which sessions need their owner, most urgent first: waiting for a permission, then for an
//! answer, then errored; within each, the one waiting longest first. One ordering for every
//! surface that lists them (the app's tray today; the UI, the CLI and MCP can share it), with
//! the pending permission request each waiting session can be answered by.
use paddock_proto::agent::{AgentState, PermissionRequest};
use paddock_proto::supervisor::SessionView;

/// What a session needs from its owner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Need<'a> {
    /// A tool waits for approval; the request, when the supervisor holds one for it.
    Permission(Option<&'a PermissionRequest>),
    /// The agent waits for an answer.
    Input,
    /// The session errored; its reason, if known.
    Errored(Option<&'a str>),
}

impl Need<'_> {
    /// Whether the owner is waited on (a permission or an answer); an errored session is
    /// listed but waits for nobody.
    pub fn waits(&self) -> bool {
        matches!(self, Need::Permission(_) | Need::Input)
    }

    fn rank(&self) -> u8 {
        match self {
            Need::Permission(_) => 0,
            Need::Input => 1,
            Need::Errored(_) => 2,
        }
    }
}

/// A session that needs its owner, and what it needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Needy<'a> {
    pub session: &'a SessionView,
    pub need: Need<'a>,
}

/// The sessions that need their owner, most urgent first (see the module header); sessions
/// working, idle or ended are left out. `pending` are the supervisor's permission requests:
/// an open one of the session's is preferred to the one its status names.
pub fn needing_owner<'a>(
    sessions: &'a [SessionView],
    pending: &'a [PermissionRequest],
) -> Vec<Needy<'a>> {
    let mut needy: Vec<Needy<'a>> = sessions
        .iter()
        .filter_map(|s| {
            let need = match s.status.state {
                AgentState::WaitingPermission => Need::Permission(
                    pending
                        .iter()
                        .find(|p| p.session == s.id && p.outcome.is_none())
                        .or(s.status.permission.as_deref()),
                ),
                AgentState::WaitingInput => Need::Input,
                AgentState::Errored => Need::Errored(s.status.reason.as_deref()),
                _ => return None,
            };
            Some(Needy { session: s, need })
        })
        .collect();
    needy.sort_by(|a, b| {
        a.need
            .rank()
            .cmp(&b.need.rank())
            .then_with(|| a.session.status.since.cmp(&b.session.status.since))
    });
    needy
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::agent::{Decision, PermissionOutcome};
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
    fn permission_then_input_then_errored_each_longest_waiting_first() {
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
            session("g", "waiting_input", "2026-12-06T09:00:00Z", json!({})),
        ];
        let pending = [permission("p1", "d", "Bash"), permission("p2", "e", "Edit")];
        let needy = needing_owner(&sessions, &pending);
        let order: Vec<&str> = needy.iter().map(|n| n.session.name.as_str()).collect();
        assert_eq!(order, ["e-task", "d-task", "g-task", "c-task", "b-task"]);
        assert!(matches!(needy[0].need, Need::Permission(Some(p)) if p.id == "p2"));
        assert!(matches!(needy[1].need, Need::Permission(Some(p)) if p.id == "p1"));
        assert_eq!(needy[4].need, Need::Errored(Some("API error 529")));
        assert_eq!(needy.iter().filter(|n| n.need.waits()).count(), 4);
    }

    #[test]
    fn an_answered_request_is_not_offered_for_a_session_still_shown_waiting() {
        let sessions = [session(
            "d",
            "waiting_permission",
            "2026-12-06T10:00:05Z",
            json!({}),
        )];
        let mut answered = permission("p1", "d", "Bash");
        answered.outcome = Some(PermissionOutcome::Decided {
            decision: Decision::Allow,
            by: "the phone".to_owned(),
            at: "2026-12-06T10:00:06Z".to_owned(),
        });
        let needy = needing_owner(&sessions, std::slice::from_ref(&answered));
        assert_eq!(needy[0].need, Need::Permission(None));
        assert_eq!(needing_owner(&[], &[]), []);
    }
}
