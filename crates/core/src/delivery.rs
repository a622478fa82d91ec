//! Whether an agent took a message: typed through [`crate::control`], then judged from the
//! session's state within [`TAKE_WAIT`]. `paddock message`, the REST message route and the
//! UI's message box all get the same [`MessageReceipt`].
//!
//! - **queued**: the agent was busy (its hooks, status file or screen said `working`): agents
//!   such as Claude Code keep what is typed meanwhile and read it when their turn allows;
//! - **submitted**: the agent started working after the message (its hooks' prompt-submitted,
//!   or, for a program without hooks, its output), or the text left the row where it was
//!   typed (the prompt cleared: agents whose hooks do not report a turn's start, Codex);
//! - **refused**: neither within the wait: the text may still sit in its input box.

use crate::control::{check_message, holder, terminal, type_message, ControlError, Echo};
use crate::events::{Event, Received};
use crate::supervisor::Handle;
use paddock_proto::agent::{AgentState, InputOutcome, MessageReceipt, StateSource};
use paddock_proto::supervisor::SessionView;
use paddock_proto::{Request, Response};
use std::time::Duration;

/// How long a message waits for the agent to show that it took it.
pub const TAKE_WAIT: Duration = Duration::from_secs(5);
/// How often the screen is looked at meanwhile.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Sends a message to the session named `query` (as [`crate::control::control`] does) and
/// says whether the agent took it.
pub async fn message(
    handle: &Handle,
    query: &str,
    text: &str,
    by: &str,
) -> Result<MessageReceipt, ControlError> {
    let view = crate::control::running(handle, query, "message", by)?;
    deliver(handle, &view, text).await
}

/// Types `text` into `view`'s agent, submits it, and says whether the agent took it.
pub async fn deliver(
    handle: &Handle,
    view: &SessionView,
    text: &str,
) -> Result<MessageReceipt, ControlError> {
    check_message(text)?;
    if let Some(p) = &view.status.permission {
        // Keys typed at a permission prompt answer it: the message would be lost and the
        // tool run.
        return Err(ControlError::Invalid(format!(
            "{} is waiting for permission ({} {}); answer it first with `paddock approve {}` or `paddock deny {}`",
            view.name, p.id, p.tool, p.id, p.id
        )));
    }
    let busy = is_busy(view);
    let mut client = terminal(handle, view).await?;
    let events = handle.bus().subscribe();
    let echo = type_message(&mut client, view, text).await?;
    let outcome = if busy {
        InputOutcome::Queued
    } else if taken(handle, &mut client, view, echo.as_ref(), events).await? {
        InputOutcome::Submitted
    } else {
        InputOutcome::Refused
    };
    let session = handle
        .registry()
        .get(&view.id)
        .unwrap_or_else(|| view.clone());
    Ok(MessageReceipt {
        outcome,
        detail: detail(outcome, &view.name),
        session,
    })
}

/// Whether an agent is in a turn, as a source that knows says (output alone does not: a
/// shell that just drew its prompt has printed too).
fn is_busy(view: &SessionView) -> bool {
    view.status.state == AgentState::Working
        && view.status.sources.first() != Some(&StateSource::Output)
}

/// Waits up to [`TAKE_WAIT`] for a sign that the agent took what was typed: the session is
/// `working` (now, or in any update since `events` subscribed), or the text left the row
/// where it showed (the prompt cleared).
async fn taken(
    handle: &Handle,
    client: &mut paddock_host::client::Client,
    view: &SessionView,
    echo: Option<&Echo>,
    mut events: crate::events::Subscriber,
) -> Result<bool, ControlError> {
    let working = |v: &SessionView| v.status.state == AgentState::Working;
    let deadline = tokio::time::Instant::now() + TAKE_WAIT;
    loop {
        if handle.registry().get(&view.id).is_some_and(|v| working(&v)) {
            return Ok(true);
        }
        if let Some(echo) = echo {
            let rows = match client
                .request(Request::Screen)
                .await
                .map_err(holder(view))?
            {
                Response::Screen { rows, .. } => rows,
                _ => Vec::new(),
            };
            if !echo.still_in(&rows) {
                return Ok(true);
            }
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let next = (now + LOOK_EVERY).min(deadline);
        loop {
            match tokio::time::timeout_at(next, events.recv()).await {
                Err(_) => break,
                Ok(Received::Closed) => return Ok(false),
                Ok(Received::Event(Event::SessionUpdate { session }))
                    if session.id == view.id && working(&session) =>
                {
                    return Ok(true)
                }
                Ok(_) => {}
            }
        }
    }
}

fn detail(outcome: InputOutcome, name: &str) -> String {
    match outcome {
        InputOutcome::Submitted => format!("{name} took the message and is working on it"),
        InputOutcome::Queued => format!(
            "{name} is busy: the message is queued and it reads it when its turn allows"
        ),
        InputOutcome::Refused => format!(
            "{name} showed no sign of taking the message within {} s; it may still sit in its input box: look with `paddock attach {name}`",
            TAKE_WAIT.as_secs()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn typed_text_counts_as_taken_once_it_left_its_row_from_the_bottom() {
        let echo = Echo {
            tail: "make a file".into(),
            row_from_bottom: 1,
        };
        // Still in the input box above the status line.
        assert!(echo.still_in(&rows(&[
            "history",
            "> please make a file",
            "? for shortcuts"
        ])));
        // Submitted: the transcript shows it higher up, the box is empty.
        assert!(!echo.still_in(&rows(&["> please make a file", "> ", "? for shortcuts"])));
        // A screen shorter than the row (resized) does not still show it.
        assert!(!echo.still_in(&rows(&[])));
    }

    #[test]
    fn only_a_source_that_knows_makes_an_agent_busy() {
        let mut view = SessionView::from_holder(
            &serde_json::from_value(serde_json::json!({
                "id": "abc", "name": "a", "command": "sh", "args": [], "cwd": "/", "pid": 1,
                "holder_pid": 1, "started_at": "2026-12-06T00:00:00Z",
                "size": {"cols": 80, "rows": 24}, "state": "running",
            }))
            .expect("info"),
            None,
        );
        view.status.state = AgentState::Working;
        view.status.sources = vec![StateSource::Hooks];
        assert!(is_busy(&view));
        view.status.sources = vec![StateSource::Output];
        assert!(
            !is_busy(&view),
            "a shell that just drew its prompt printed too"
        );
        view.status.state = AgentState::WaitingInput;
        view.status.sources = vec![StateSource::Hooks];
        assert!(!is_busy(&view));
    }
}
