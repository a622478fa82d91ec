//! Claude Code started from inside another Claude Code session: the parent's variables are
//! not inherited, unless kept on purpose.

use crate::claude::Claude;
use crate::support::T;
use paddock_fakeapi::{Reply, Script, When};

/// The variables a `claude` started inside another Claude Code session inherits.
const NESTED: &[(&str, &str)] = &[
    ("CLAUDECODE", "1"),
    ("CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR", "3"),
    ("CLAUDE_CODE_ENTRYPOINT", "cli"),
];

/// The environment of the session's agent process, as the kernel shows it.
fn agent_environ(c: &Claude) -> Vec<String> {
    let row = c.wait_row("the agent's pid", |r| r["pid"].as_u64().is_some());
    let pid = row["pid"].as_u64().expect("pid");
    let raw = std::fs::read(format!("/proc/{pid}/environ")).expect("the agent's environment");
    raw.split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[test]
fn claude_started_from_inside_another_claude_code_session_runs_normally_without_its_variables() {
    let c = Claude::start_from_shell_with(
        Script::new().then(
            Reply::text("Hello from a clean claude.").when(When::UserSays("say hello".into())),
        ),
        NESTED,
        &[],
    );
    c.say("say hello");
    c.wait_screen("the answer", |s| s.contains("Hello from a clean claude."));
    let turn = c.fake.wait_for("the typed prompt", T, |r| {
        r.is_turn() && r.last_user_text().contains("say hello")
    });
    assert_eq!(turn.reply, Some(0), "{}", c.fake.log());
    let environ = agent_environ(&c);
    for (name, _) in NESTED {
        assert!(
            !environ.iter().any(|v| v.starts_with(&format!("{name}="))),
            "{name} reached the agent: {environ:?}"
        );
    }
    assert!(
        environ.iter().any(|v| v.starts_with("ANTHROPIC_BASE_URL=")),
        "the rest of the environment is kept: {environ:?}"
    );
}

#[test]
fn keep_nested_env_hands_the_parent_sessions_variables_on() {
    let c = Claude::start_from_shell_with(
        Script::new().then(Reply::text("Still here.")),
        NESTED,
        &["--keep-nested-env"],
    );
    let environ = agent_environ(&c);
    for (name, value) in NESTED {
        assert!(
            environ.contains(&format!("{name}={value}")),
            "{name} was removed although asked to keep it: {environ:?}"
        );
    }
}
