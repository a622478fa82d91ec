//! A program's own account of what it does, as it reports it to its terminal with the Program
//! Status Protocol (OSC 7501, revision 0.4). The holder parses and validates the reports
//! (`paddock_host::osc7501`); these are the records it keeps and sends to the supervisor,
//! which feeds them to the state machine and shows them (CLI, REST, UI, notifications).

use serde::{Deserialize, Serialize};

/// What the program says it is doing (`state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProgramState {
    /// Nothing to do.
    Idle,
    /// Busy with a task.
    Working,
    /// Stopped until its owner does something (the record's `kind` says what).
    Blocked,
    /// Finished its task.
    Done,
    /// Failed (the record's `message` says why).
    Error,
}

impl ProgramState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramState::Idle => "idle",
            ProgramState::Working => "working",
            ProgramState::Blocked => "blocked",
            ProgramState::Done => "done",
            ProgramState::Error => "error",
        }
    }
}

/// What a blocked program waits for (`kind=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlockedKind {
    /// An approval before it acts (the message names the action).
    Permission,
    /// An answer to a question.
    Question,
    /// A login or credentials.
    Auth,
}

impl BlockedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockedKind::Permission => "permission",
            BlockedKind::Question => "question",
            BlockedKind::Auth => "auth",
        }
    }
}

/// One record: the last report about the whole program (or about one of its children, `id`).
/// A report replaces its record whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ProgramStatus {
    pub state: ProgramState,
    /// With `blocked`: what it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<BlockedKind>,
    /// The program's id, e.g. `claude-code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Its message (decoded, printable text only), e.g. `approve Bash: rm -rf build`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its title (decoded, printable text only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Progress in percent, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// The child record's id; absent for the record about the whole program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the holder received the report, RFC 3339 with milliseconds, UTC.
    #[serde(default)]
    pub at: String,
}

impl ProgramStatus {
    /// The action a permission message names, split as the pinned Claude Code words it
    /// (`approve Bash: echo hi > osc.txt` is `Bash` and `echo hi > osc.txt`); `None` for a
    /// message of another shape.
    pub fn permission_subject(&self) -> Option<(&str, &str)> {
        let msg = self.message.as_deref()?;
        let msg = msg.strip_prefix("approve ").unwrap_or(msg);
        let (tool, subject) = msg.split_once(": ")?;
        let word = !tool.is_empty()
            && tool.len() <= 64
            && tool
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        word.then_some((tool, subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_message(msg: &str) -> ProgramStatus {
        ProgramStatus {
            state: ProgramState::Blocked,
            kind: Some(BlockedKind::Permission),
            app: None,
            message: Some(msg.into()),
            title: None,
            progress: None,
            id: None,
            at: String::new(),
        }
    }

    #[test]
    fn a_permission_message_names_the_tool_and_the_command() {
        assert_eq!(
            with_message("approve Bash: echo hi > osc.txt").permission_subject(),
            Some(("Bash", "echo hi > osc.txt"))
        );
        assert_eq!(
            with_message("Edit: src/main.rs").permission_subject(),
            Some(("Edit", "src/main.rs"))
        );
        assert_eq!(
            with_message("Allow this?").permission_subject(),
            None,
            "a message without a tool is not split"
        );
        assert_eq!(
            with_message("run this thing: now").permission_subject(),
            None,
            "words with spaces are not a tool's name"
        );
    }
}
