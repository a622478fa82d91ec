//! Whether an agent took a message: typed through [`crate::control`], then judged from the
//! session's state and screen within a wait (5 s unless the caller says otherwise).
//! `paddock message`, `paddock send --enter`, the REST message route, MCP's `send_message`
//! and the UI's message box all get the same [`MessageReceipt`].
//!
//! - **queued**: the agent was busy (its hooks, status file, OSC 7501 reports or screen said
//!   `working`): agents such as Claude Code keep what is typed meanwhile and read it when
//!   their turn allows;
//! - **submitted**: the agent started working after the message (a source that knows its
//!   turns said so), or the text left the row where it was typed (the prompt cleared), or,
//!   for a program that is no known agent and known only by its output (a shell), it wrote
//!   below the typed line (a command's output, the next prompt). A shell command that prints
//!   nothing and runs past the wait is therefore `unknown`;
//! - **refused**: nothing was typed: the session has exited, or a permission prompt is up
//!   that the keys would answer;
//! - **unknown**: none of these within the wait; the detail says what the screen showed.

use crate::control::{check_message, holder, terminal, type_and_submit, ControlError, Typed};
use crate::events::{Event, Received};
use crate::supervisor::Handle;
use paddock_proto::agent::{
    AgentState, InputOutcome, MessageReceipt, StateSource, MAX_TAKE_WAIT_MS,
};
use paddock_proto::supervisor::SessionView;
use paddock_proto::{Request, Response};
use std::time::Duration;

/// How long a message waits for the agent to show that it took it, unless told otherwise.
pub const TAKE_WAIT: Duration = Duration::from_secs(5);
/// How long a message may still show in its input box after Enter before Enter is pressed
/// once more.
const ENTER_AGAIN: Duration = Duration::from_millis(1500);
/// How often the screen is looked at meanwhile.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// How a message is delivered: how long to wait for a sign, and whether it is typed as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct How {
    pub wait: Duration,
    /// Typed exactly as given, then Enter (`paddock send --enter`).
    pub typed: bool,
}

impl Default for How {
    fn default() -> Self {
        How {
            wait: TAKE_WAIT,
            typed: false,
        }
    }
}

impl How {
    /// From a request's `timeout_ms` (none: [`TAKE_WAIT`]) and `typed`.
    pub fn new(timeout_ms: Option<u64>, typed: bool) -> Result<How, ControlError> {
        let wait = match timeout_ms {
            None => TAKE_WAIT,
            Some(ms) if (1..=MAX_TAKE_WAIT_MS).contains(&ms) => Duration::from_millis(ms),
            Some(ms) => {
                return Err(ControlError::Invalid(format!(
                    "a timeout of {ms} ms is out of range: give 1 to {MAX_TAKE_WAIT_MS} ms"
                )))
            }
        };
        Ok(How { wait, typed })
    }
}

/// Sends a message to the session named `query` (as [`crate::control::control`] finds it)
/// and says whether the agent took it. A session that has exited gets a `refused` receipt.
pub async fn message(
    handle: &Handle,
    query: &str,
    text: &str,
    by: &str,
    how: How,
) -> Result<MessageReceipt, ControlError> {
    let view = crate::control::find(handle, query)?;
    if !view.is_running() {
        check(text, how)?;
        let ended = match view.status.exit_code {
            Some(code) => format!("{} has exited (code {code})", view.name),
            None => format!("{} has ended", view.name),
        };
        return Ok(refused(
            view.clone(),
            format!(
                "{ended}: nothing reads input there, and nothing was typed; start a new session with `paddock run`"
            ),
        ));
    }
    tracing::info!(session = %view.id, action = "message", by, "control action");
    deliver(handle, &view, text, how).await
}

fn check(text: &str, how: How) -> Result<(), ControlError> {
    if how.typed {
        // A shell takes an empty line; only the size is bounded.
        if text.len() > crate::control::MAX_MESSAGE {
            return check_message(text);
        }
        return Ok(());
    }
    check_message(text)
}

fn refused(session: SessionView, detail: String) -> MessageReceipt {
    MessageReceipt {
        outcome: InputOutcome::Refused,
        detail,
        session,
    }
}

/// Types `text` into `view`'s agent, submits it, and says whether the agent took it.
pub async fn deliver(
    handle: &Handle,
    view: &SessionView,
    text: &str,
    how: How,
) -> Result<MessageReceipt, ControlError> {
    check(text, how)?;
    if let (Some(p), false) = (&view.status.permission, how.typed) {
        // Keys typed at a permission prompt answer it: the message would be lost and the
        // tool run. (Typed as is, they are meant for the prompt: `paddock send --enter`.)
        return Ok(refused(
            view.clone(),
            format!(
                "{} is waiting for permission ({} {}) and nothing was typed: keys now would answer the prompt; answer it first with `paddock approve {}` or `paddock deny {}`",
                view.name, p.id, p.tool, p.id, p.id
            ),
        ));
    }
    let busy = is_busy(view);
    let mut client = terminal(handle, view).await?;
    let events = handle.bus().subscribe();
    let typed = type_and_submit(&mut client, view, text, how.typed).await?;
    let (outcome, detail) = if busy {
        (
            InputOutcome::Queued,
            format!(
                "{} is busy: the message is queued and it reads it when its turn allows",
                view.name
            ),
        )
    } else {
        match taken(
            handle,
            &mut client,
            view,
            &typed,
            events,
            how.wait,
            how.typed,
        )
        .await?
        {
            None if how.typed => (
                InputOutcome::Submitted,
                format!("{} took the line", view.name),
            ),
            None => (
                InputOutcome::Submitted,
                format!("{} took the message and is working on it", view.name),
            ),
            Some(seen) => (InputOutcome::Unknown, seen),
        }
    };
    let session = handle
        .registry()
        .get(&view.id)
        .unwrap_or_else(|| view.clone());
    Ok(MessageReceipt {
        outcome,
        detail,
        session,
    })
}

/// Whether a source that knows the agent's turns says so (output alone does not: a shell
/// that just echoed what was typed has printed too).
fn knows(view: &SessionView) -> bool {
    !matches!(
        view.status.sources.first(),
        None | Some(StateSource::Output | StateSource::Process)
    )
}

/// Whether an agent is in a turn, as a source that knows says.
fn is_busy(view: &SessionView) -> bool {
    view.status.state == AgentState::Working && knows(view)
}

/// Waits up to `wait` for a sign that the agent took what was typed: a source that knows
/// says it is `working` (now, or in any update since `events` subscribed), the text left the
/// row where it showed (the prompt cleared), or, for a program known by its output alone,
/// something was written below the typed line. `None` when taken, else what was seen.
async fn taken(
    handle: &Handle,
    client: &mut paddock_host::client::Client,
    view: &SessionView,
    typed: &Typed,
    mut events: crate::events::Subscriber,
    wait: Duration,
    how_typed: bool,
) -> Result<Option<String>, ControlError> {
    let working = |v: &SessionView| v.status.state == AgentState::Working && knows(v);
    let deadline = tokio::time::Instant::now() + wait;
    let again_at = tokio::time::Instant::now() + ENTER_AGAIN;
    let mut pressed_again = typed.echo.is_none();
    loop {
        let now_view = handle.registry().get(&view.id);
        if now_view.as_ref().is_some_and(working) {
            return Ok(None);
        }
        if now_view.as_ref().is_some_and(|v| !v.is_running()) {
            return Ok(Some(format!(
                "{} ended right after the message; whether it read it is not known",
                view.name
            )));
        }
        let rows = match client
            .request(Request::Screen)
            .await
            .map_err(holder(view))?
        {
            Response::Screen { rows, .. } => rows,
            _ => Vec::new(),
        };
        if typed
            .echo
            .as_ref()
            .is_some_and(|echo| !echo.still_in(&rows))
        {
            return Ok(None);
        }
        // A program that is no known agent (a shell) read the line when it wrote below it
        // (anywhere, when the text did not show); an agent's screen changes there on its own
        // (hints, status lines).
        let plain = view.agent.is_none() && now_view.as_ref().is_some_and(|v| !knows(v));
        if plain && wrote_after(typed, &rows) {
            return Ok(None);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(Some(unseen(view, typed, &rows, now_view.as_ref(), wait)));
        }
        // A message still in its input box a while after Enter: a busy machine can make a
        // TUI take text and Enter as one paste. Press Enter once more, as a person would
        // (an agent's empty input ignores it). Keys typed as is are left as they were.
        if !how_typed && !pressed_again && now >= again_at {
            pressed_again = true;
            client.send_input(b"\r").await.map_err(holder(view))?;
            tracing::debug!(session = %view.id, "the message still showed after Enter: pressed Enter again");
        }
        let next = (now + LOOK_EVERY).min(deadline);
        loop {
            match tokio::time::timeout_at(next, events.recv()).await {
                Err(_) => break,
                Ok(Received::Closed) => {
                    return Ok(Some(format!(
                        "Paddock stopped watching {} before it showed a sign",
                        view.name
                    )))
                }
                Ok(Received::Event(Event::SessionUpdate { session }))
                    if session.id == view.id && working(&session) =>
                {
                    return Ok(None)
                }
                Ok(_) => {}
            }
        }
    }
}

/// Whether the screen changed where only the program writes, since Enter: below the typed
/// text's row, or anywhere when it did not show (a terminal's echo of Enter only moves the
/// cursor).
fn wrote_after(typed: &Typed, rows: &[String]) -> bool {
    match &typed.echo {
        Some(echo) => echo.answered_below(&typed.rows, rows),
        None => {
            let trimmed = |r: &[String]| -> Vec<String> {
                r.iter().map(|l| l.trim_end().to_owned()).collect()
            };
            !typed.rows.is_empty()
                && typed.rows.len() == rows.len()
                && trimmed(&typed.rows) != trimmed(rows)
        }
    }
}

/// What was seen when no sign came within the wait, for a person.
fn unseen(
    view: &SessionView,
    typed: &Typed,
    rows: &[String],
    now: Option<&SessionView>,
    wait: Duration,
) -> String {
    let state = now.map_or("unknown", |v| v.status.state.as_str());
    let screen = match &typed.echo {
        Some(echo) if echo.still_in(rows) => format!(
            "the text still shows where it was typed (\"…{}\")",
            echo.tail
        ),
        Some(_) => "the text left where it was typed".to_owned(),
        None => "the text never showed on its screen (the program may not be reading)".to_owned(),
    };
    format!(
        "no sign within {:.1} s that {} took the message: {screen}, and its state stayed {state}; look with `paddock attach {}`",
        wait.as_secs_f64(),
        view.name,
        view.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Echo;

    #[test]
    fn a_shell_that_wrote_below_the_typed_line_read_it_and_a_moved_cursor_alone_does_not_count() {
        let echo = Echo {
            tail: "echo hi".into(),
            row_from_bottom: 3,
        };
        let before = rows(&["$ echo hi", "", "", ""]);
        assert!(echo.answered_below(&before, &rows(&["$ echo hi", "hi", "$ ", ""])));
        // The terminal echoed Enter as a newline, nothing read the line (a shell busy with
        // `sleep`): the rows below are as they were.
        assert!(!echo.answered_below(&before, &rows(&["$ echo hi", "", "", ""])));
        // Resized meanwhile: no judgement.
        assert!(!echo.answered_below(&before, &rows(&["$ echo hi", "hi"])));
    }

    #[test]
    fn a_wait_out_of_range_is_refused_with_the_range() {
        assert_eq!(How::new(None, false).expect("default").wait, TAKE_WAIT);
        assert_eq!(
            How::new(Some(1500), true).expect("in range"),
            How {
                wait: Duration::from_millis(1500),
                typed: true
            }
        );
        for bad in [0, MAX_TAKE_WAIT_MS + 1] {
            let err = How::new(Some(bad), false).expect_err("out of range");
            assert!(err.to_string().contains("1 to 60000 ms"), "{err}");
        }
    }

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
