//! The real Claude Code and Codex CLIs (the pinned versions of `scripts/agent-versions.env`,
//! installed by `scripts/install-agents.sh`) run a scripted session against the fake model
//! API; their own transcripts are then read by this crate and what a user would see is
//! asserted: the task, each action with its outcome, the files changed, the todo progress,
//! tokens.

use paddock_agents::{AgentKind, LiveTranscript, Prices};
use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use paddock_proto::insight::{ActionStatus, FileOperation, TodoStatus};
use serde_json::json;
use std::process::Command;

mod common;

use common::{assert_success, codex_makes_a_file, run_to_end};

/// Runs `cmd` to its end, which must be a success; its standard output.
fn run_until_done(cmd: Command, what: &str, fake: &FakeApi) -> String {
    let out = run_to_end(cmd, what, fake);
    assert_success(&out, what, fake);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_real_claude_session_shows_its_tasks_files_actions_and_tokens() {
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    // The script names the file by its absolute path, which exists only with the sandbox,
    // which needs the API's address: bind the port first and keep it for the fake.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let sb = ClaudeSandbox::new(&format!("http://{addr}")).expect("sandbox");
    let file = sb.project().join("hello.txt");
    let path = file.display().to_string();
    let create = |subject: &str, active: &str| json!({"subject": subject, "description": subject, "activeForm": active});
    let update = |id: &str, status: &str| json!({"taskId": id, "status": status});
    let mut n = 0u64;
    let mut usage = || {
        n += 1;
        Usage::new(100 + n, 10 + n).with_cache(0, 1000)
    };
    let steps: Vec<(&str, serde_json::Value)> = vec![
        (
            "TaskCreate",
            create("Fix its greeting", "Fixing its greeting"),
        ),
        ("TaskCreate", create("Check the file", "Checking the file")),
        ("TaskUpdate", update("1", "in_progress")),
        ("Write", json!({"file_path": path, "content": "hello\n"})),
        ("TaskUpdate", update("1", "completed")),
        (
            "Edit",
            json!({"file_path": path, "old_string": "hello", "new_string": "hello, world"}),
        ),
        ("TaskUpdate", update("2", "completed")),
        (
            "Bash",
            json!({"command": "cat hello.txt", "description": "Show the file"}),
        ),
        ("TaskUpdate", update("3", "in_progress")),
    ];
    let mut script = Script::new().then(
        Reply::tool_use("TaskCreate", create("Write hello.txt", "Writing hello.txt"))
            .with_thinking("Plan:\n- write the file\n- fix the greeting")
            .when(When::UserSays("greet the world".into()))
            .usage(Usage::new(100, 10).with_cache(2000, 0)),
    );
    for (tool, input) in steps {
        script = script.then(
            Reply::tool_use(tool, input)
                .when(When::ToolResult)
                .usage(usage()),
        );
    }
    script = script.then(
        Reply::text("hello.txt now says hello, world.")
            .when(When::ToolResult)
            .usage(usage()),
    );
    let fake = FakeApi::start_listening(listener, script).expect("fake API");
    let mut cmd = Command::new(claude);
    sb.apply(&mut cmd);
    cmd.args([
        "-p",
        "greet the world",
        "--tools",
        "Bash,Write,Edit,Read,TaskCreate,TaskUpdate,TaskList",
        "--allowedTools",
        "Bash,Write,Edit,Read,TaskCreate,TaskUpdate,TaskList",
    ]);
    let out = run_until_done(cmd, "claude -p", &fake);
    assert!(out.contains("hello.txt now says hello, world."), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        "hello, world\n"
    );

    let transcripts = sb.transcripts();
    assert_eq!(transcripts.len(), 1, "{transcripts:?}");
    let mut live = LiveTranscript::open(&AgentKind::Claude, &transcripts[0], None).expect("open");
    live.poll().expect("read");
    let i = live.insight(&Prices::default());
    assert_eq!(i.current_task.as_deref(), Some("greet the world"));
    assert_eq!(
        i.cwd.as_deref(),
        Some(sb.project().to_string_lossy().as_ref())
    );
    let actions: Vec<(&str, &str, ActionStatus)> = i
        .recent_actions
        .iter()
        .map(|a| (a.tool.as_str(), a.input_summary.as_str(), a.status))
        .collect();
    let ok = ActionStatus::Succeeded;
    assert_eq!(
        actions,
        vec![
            ("TaskCreate", "Write hello.txt", ok),
            ("TaskCreate", "Fix its greeting", ok),
            ("TaskCreate", "Check the file", ok),
            ("TaskUpdate", "task 1: in_progress", ok),
            ("Write", path.as_str(), ok),
            ("TaskUpdate", "task 1: completed", ok),
            ("Edit", path.as_str(), ok),
            ("TaskUpdate", "task 2: completed", ok),
            ("Bash", "cat hello.txt", ok),
            ("TaskUpdate", "task 3: in_progress", ok),
        ],
        "{:#?}",
        i.recent_actions
    );
    assert_eq!(
        i.recent_actions[8].result_summary.as_deref(),
        Some("hello, world")
    );
    assert_eq!(i.files_modified.len(), 1, "{:#?}", i.files_modified);
    let f = &i.files_modified[0];
    assert_eq!(
        (
            f.path.as_str(),
            f.operation,
            f.changes,
            f.lines_added,
            f.lines_removed
        ),
        (path.as_str(), FileOperation::Created, 2, 2, 1),
        "{f:#?}"
    );
    assert!(
        f.diff
            .as_deref()
            .is_some_and(|d| d.contains("-hello\n") && d.contains("+hello, world")),
        "{:?}",
        f.diff
    );
    let p = i.progress.as_ref().expect("progress");
    let items: Vec<(Option<&str>, &str, TodoStatus)> = p
        .items
        .iter()
        .map(|t| (t.id.as_deref(), t.content.as_str(), t.status))
        .collect();
    assert_eq!(
        items,
        vec![
            (Some("1"), "Write hello.txt", TodoStatus::Completed),
            (Some("2"), "Fix its greeting", TodoStatus::Completed),
            (Some("3"), "Check the file", TodoStatus::InProgress),
        ]
    );
    assert_eq!((p.done, p.total), (2, 3));
    assert!(p.estimate.as_ref().is_some_and(|e| e.is_estimate));
    assert_eq!(i.thinking.next_actions, vec!["Checking the file"]);
    assert_eq!(
        i.thinking.decision_factors,
        vec!["write the file", "fix the greeting"]
    );
    // Every scripted response counted once, whatever lines the CLI split them into.
    assert_eq!(i.responses, 11);
    assert_eq!(
        i.tokens.input,
        100 + (1..=10).map(|n| 100 + n).sum::<u64>(),
        "{:?}",
        i.tokens
    );
    assert_eq!(i.tokens.output, 10 + (1..=10).map(|n| 10 + n).sum::<u64>());
    assert_eq!(i.tokens.cache_creation, 2000);
    assert_eq!(i.tokens.cache_read, 10_000);
    assert_eq!(i.skipped_lines, 0);
}

#[test]
fn a_real_codex_rollout_shows_its_task_command_and_tokens() {
    let (fake, sb, out) = codex_makes_a_file("Done, made.txt is there.");
    assert_success(&out, "codex exec", &fake);
    let rollouts = sb.rollouts();
    assert_eq!(rollouts.len(), 1, "{rollouts:?}");
    let mut live = LiveTranscript::open(&AgentKind::Codex, &rollouts[0], None).expect("open");
    live.poll().expect("read");
    let i = live.insight(&Prices::default());
    assert_eq!(i.current_task.as_deref(), Some("please make a file"));
    assert_eq!(i.recent_actions.len(), 1, "{:#?}", i.recent_actions);
    let a = &i.recent_actions[0];
    assert_eq!(
        (a.tool.as_str(), a.input_summary.as_str()),
        ("exec_command", "echo made-by-codex > made.txt")
    );
    assert_eq!(a.status, ActionStatus::Succeeded, "{a:?}");
    // Codex reports running totals; the last one covers both requests.
    assert_eq!(i.tokens.input + i.tokens.cache_read, 230, "{:?}", i.tokens);
    assert_eq!(i.tokens.cache_read, 64);
    assert_eq!(i.tokens.output, 28);
    assert_eq!(live.turn_active(), Some(false));
}
