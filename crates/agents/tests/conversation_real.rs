//! The real Claude Code (the pinned version, `scripts/install-agents.sh`) runs scripted
//! sessions against the fake model API; its own transcript files are then read as a
//! conversation and what a user would see is asserted: the prompt, the text and thinking,
//! each tool call with its result, the edit's diff, the sub-agent's run under its call, the
//! API error, the compaction, each turn's tokens; and an AskUserQuestion answered through the
//! permission hook the way Paddock answers it.

use paddock_agents::claude::hooks::{permission_decision_json, PermissionDecision};
use paddock_agents::{AgentKind, ConversationReader, Prices};
use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use paddock_proto::conversation::{Item, ToolCall, ToolStatus, Turn};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{codex_makes_a_file, printed, run_to_end, T};

/// Runs `cmd` to its end; what it printed (standard output, then error).
fn run(cmd: Command, what: &str, fake: &FakeApi) -> String {
    printed(&run_to_end(cmd, what, fake))
}

fn tools(items: &[Item]) -> Vec<&ToolCall> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Tool(c) => Some(&**c),
            _ => None,
        })
        .collect()
}

fn texts(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Waits until `cond` holds, up to the deadline.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < T, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_real_claude_session_reads_as_a_conversation_of_turns() {
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let sb = ClaudeSandbox::new(&format!("http://{addr}")).expect("sandbox");
    let file = sb.project().join("notes.md");
    std::fs::write(&file, "# Notes\nold line\n").expect("notes");
    let path = file.display().to_string();
    let script = Script::new()
        .then(
            Reply::tool_use("Bash", json!({"command": "ls", "description": "List files"}))
                .with_thinking("I should look around first.")
                .with_text("Let me look at the project.")
                .when(When::UserSays("tidy the notes".into()))
                .usage(Usage::new(100, 10)),
        )
        .then(Reply::tool_use("Read", json!({"file_path": path})).when(When::ToolResult))
        .then(
            Reply::tool_use(
                "Edit",
                json!({"file_path": path, "old_string": "old line", "new_string": "new line"}),
            )
            .when(When::ToolResult),
        )
        .then(
            Reply::tool_use(
                "Agent",
                json!({"description": "Check notes", "prompt": "SUBAGENT check the notes file",
                       "subagent_type": "general-purpose"}),
            )
            .when(When::ToolResult),
        )
        // The sub-agent's first request (its prompt), then the main agent's tool result
        // (the sub-agent runs in the background), then the sub-agent's results: its Bash
        // sleeps so that the main agent's result surely comes first.
        .then(
            Reply::tool_use(
                "Bash",
                json!({"command": "sleep 1; wc -l notes.md", "description": "Count"}),
            )
            .when(When::UserSays("SUBAGENT".into())),
        )
        .then(
            Reply::text("Done: the notes say **new line** now.\n\n```sh\ncat notes.md\n```\n\nShall I commit?")
                .when(When::ToolResult)
                .usage(Usage::new(300, 30)),
        )
        .then(
            Reply::tool_use("Bash", json!({"command": "false", "description": "Fail"}))
                .when(When::ToolResult),
        )
        .then(Reply::text("The notes have 2 lines.").when(When::ToolResult))
        .then(
            Reply::error(500, "api_error", "Internal server error")
                .should_retry(false)
                .when(When::UserSays("second".into())),
        );
    let fake = FakeApi::start_listening(listener, script).expect("fake API");
    let tool_args = [
        "--tools",
        "Bash,Read,Edit,Agent",
        "--allowedTools",
        "Bash,Read,Edit,Agent",
    ];
    let mut cmd = Command::new(&claude);
    sb.apply(&mut cmd);
    cmd.args(["-p", "tidy the notes"]).args(tool_args);
    let out = run(cmd, "claude -p", &fake);
    assert!(out.contains("Shall I commit?"), "{out}\n{}", fake.log());
    let transcripts = sb.transcripts();
    let main = transcripts
        .iter()
        .find(|p| !p.to_string_lossy().contains("/subagents/"))
        .expect("the main transcript")
        .clone();
    let mut reader = ConversationReader::open(&AgentKind::Claude, &main).expect("open");
    // The sub-agent's file is complete once the main agent was told it finished.
    wait_for("the sub-agent to finish", || {
        std::fs::read_to_string(&main).is_ok_and(|t| t.contains("<task-notification>"))
    });
    let first = reader.poll().expect("read");
    let first_turn = *first.changed.first().expect("turns read");

    let mut cmd = Command::new(&claude);
    sb.apply(&mut cmd);
    cmd.args(["-p", "-c", "second"]).args(tool_args);
    let out = run(cmd, "claude -p -c", &fake);
    assert!(out.contains("API Error: 500"), "{out}");
    let mut cmd = Command::new(&claude);
    sb.apply(&mut cmd);
    cmd.args(["-p", "-c", "/compact"]);
    run(cmd, "claude -p -c /compact", &fake);
    let later = reader.poll().expect("read again");
    assert!(
        !later.changed.contains(&first_turn),
        "only new turns changed: {later:?}"
    );

    let prices = Prices::default();
    let page = reader.page(&prices, None, 50).expect("page");
    assert_eq!(page.agent, "claude");
    let turns: Vec<&Turn> = page.turns.iter().collect();
    let prompts: Vec<Option<&str>> = turns.iter().map(|t| t.prompt.as_deref()).collect();
    assert_eq!(
        prompts,
        vec![
            Some("tidy the notes"),
            None,
            Some("second"),
            Some("/compact")
        ],
        "{:#?}",
        page.turns
    );
    assert_eq!(page.total, Some(4));
    assert_eq!(page.older, None);

    let t0 = turns[0];
    assert!(
        matches!(&t0.items[0], Item::Thinking { text } if text == "I should look around first."),
        "{:#?}",
        t0.items
    );
    let calls = tools(&t0.items);
    let names: Vec<(&str, &str, ToolStatus)> = calls
        .iter()
        .map(|c| (c.tool.as_str(), c.summary.as_str(), c.status))
        .collect();
    let ok = ToolStatus::Succeeded;
    assert_eq!(
        names,
        vec![
            ("Bash", "ls", ok),
            ("Read", path.as_str(), ok),
            ("Edit", path.as_str(), ok),
            ("Agent", "Check notes", ok),
        ]
    );
    assert_eq!(calls[0].output.as_deref(), Some("notes.md"));
    assert!(calls[0].duration_ms.is_some());
    let diff = calls[2].diff.as_ref().expect("the edit's diff");
    assert_eq!((diff.added, diff.removed, diff.created), (1, 1, false));
    assert!(diff.diff.contains("-old line\n+new line"), "{}", diff.diff);
    let run = calls[3].subagent.as_ref().expect("the sub-agent's run");
    assert_eq!(run.description.as_deref(), Some("Check notes"));
    assert_eq!(run.agent_type.as_deref(), Some("general-purpose"));
    let sub: Vec<(&str, ToolStatus)> = tools(&run.items)
        .iter()
        .map(|c| (c.summary.as_str(), c.status))
        .collect();
    assert_eq!(
        sub,
        vec![
            ("sleep 1; wc -l notes.md", ok),
            ("false", ToolStatus::Failed)
        ]
    );
    assert_eq!(texts(&run.items), vec!["The notes have 2 lines."]);
    assert_eq!(
        texts(&t0.items),
        vec![
            "Let me look at the project.",
            "Done: the notes say **new line** now.\n\n```sh\ncat notes.md\n```\n\nShall I commit?"
        ]
    );
    assert_eq!(t0.question.as_deref(), Some("Shall I commit?"));
    let tokens: u64 = t0.tokens.iter().map(|u| u.input + u.output).sum();
    // 110 + 3 × 15 (Read, Edit, Agent; the default usage) + 330: each response once,
    // whatever lines it spans; the sub-agent's responses are its own.
    assert_eq!(tokens, 110 + 3 * 15 + 330, "{:?}", t0.tokens);

    assert!(
        matches!(&turns[1].items[0], Item::Notice { text } if text.contains("Check notes")),
        "{:#?}",
        turns[1].items
    );
    assert!(
        matches!(&turns[2].items[..], [Item::ApiError { status: Some(500), message }] if message.contains("Internal server error")),
        "{:#?}",
        turns[2].items
    );
    assert!(
        turns[3]
            .items
            .iter()
            .any(|i| matches!(i, Item::Compaction { trigger: Some(t), .. } if t == "manual")),
        "{:#?}",
        turns[3].items
    );

    // Paging: the newest first, by cursor.
    let keys: Vec<u64> = page.turns.iter().map(|t| t.index).collect();
    assert_eq!(keys[0], first_turn);
    let newest = reader.page(&prices, None, 2).expect("page");
    assert_eq!(
        newest.turns.iter().map(|t| t.index).collect::<Vec<_>>(),
        keys[2..]
    );
    assert_eq!(newest.older, Some(keys[2]));
    let before = reader.page(&prices, newest.older, 2).expect("page");
    assert_eq!(
        before.turns.iter().map(|t| t.index).collect::<Vec<_>>(),
        keys[..2]
    );
    assert_eq!(before.older, None);
    assert_eq!(
        reader.turn(&prices, keys[0]).expect("read").expect("turn"),
        before.turns[0]
    );

    // Read from its end a turn at a time, this real transcript (a sub-agent, a background
    // task's notice, an API error, a compaction) gives the pages of a whole read.
    let mut whole = ConversationReader::open_whole(&AgentKind::Claude, &main).expect("open");
    let mut tail = ConversationReader::open(&AgentKind::Claude, &main)
        .expect("open")
        .sized(1, 0);
    let mut before = None;
    loop {
        let w = whole.page(&prices, before, 1).expect("page");
        let t = tail.page(&prices, before, 1).expect("page");
        assert_eq!(t.turns, w.turns);
        assert_eq!(t.older, w.older);
        before = w.older;
        if before.is_none() {
            break;
        }
    }
}

#[test]
fn an_ask_user_question_answered_through_the_hook_reaches_the_real_claude() {
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let fake_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = fake_listener.local_addr().expect("its address");
    let sb = ClaudeSandbox::new(&format!("http://{addr}")).expect("sandbox");
    let question = "Which colour should the button be?";
    let input = json!({"questions": [{"question": question, "header": "Colour", "multiSelect": false,
        "options": [{"label": "Red", "description": "Bold"}, {"label": "Blue", "description": "Calm"}]}]});
    let script = Script::new()
        .then(Reply::tool_use("AskUserQuestion", input).when(When::UserSays("paint".into())))
        .then(Reply::text("Painting it blue.").when(When::ToolResult))
        // Its permission prompt is declined with Esc in the terminal: an interruption.
        .then(
            Reply::tool_use(
                "Bash",
                json!({"command": "echo never > never.txt", "description": "Never"}),
            )
            .when(When::UserSays("keep going".into())),
        );
    let fake = FakeApi::start_listening(fake_listener, script).expect("fake API");
    // AskUserQuestion exists only in the interactive CLI: run it in a tmux of its own.
    let socket = format!("pdk-conv-{}", std::process::id());
    let mut cmd = Command::new("tmux");
    sb.apply(&mut cmd);
    cmd.args([
        "-L",
        &socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "40",
    ])
    .arg(format!(
        "'{}' --permission-mode manual --settings '{}' 'paint the button'",
        claude.display(),
        sb.recording_settings()
    ));
    assert!(cmd.status().expect("tmux").success());
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    let _tmux = Kill(socket.clone());
    wait_for("the PermissionRequest hook", || {
        !sb.hooks_of("PermissionRequest").is_empty()
    });
    let asked = sb.hooks_of("PermissionRequest").remove(0);
    assert_eq!(asked["tool_name"], "AskUserQuestion");
    let questions =
        paddock_agents::conversation::claude::questions_of("AskUserQuestion", &asked["tool_input"]);
    assert_eq!(questions.len(), 1);
    assert_eq!(questions[0].question, question);
    let labels: Vec<&str> = questions[0]
        .options
        .iter()
        .map(|o| o.label.as_str())
        .collect();
    assert_eq!(labels, ["Red", "Blue"]);
    let answer = PermissionDecision::Answer {
        input: asked["tool_input"].clone(),
        answers: [(question.to_owned(), "Blue".to_owned())].into(),
    };
    std::fs::write(
        sb.root().join("decisions/next.json"),
        permission_decision_json(&answer),
    )
    .expect("decision");
    wait_for("the agent to go on", || {
        fake.log().contains("Painting it blue.")
    });
    let path = sb.transcripts().remove(0);
    let mut reader = ConversationReader::open(&AgentKind::Claude, &path).expect("open");
    wait_for("the answer in the transcript", || {
        reader.poll().expect("read");
        let page = reader.page(&Prices::default(), None, 10).expect("page");
        page.turns
            .last()
            .is_some_and(|t| texts(&t.items).contains(&"Painting it blue."))
    });
    let page = reader.page(&Prices::default(), None, 10).expect("page");
    let turn = page.turns.last().expect("a turn");
    let call = tools(&turn.items)[0];
    assert_eq!(call.tool, "AskUserQuestion");
    assert_eq!(call.questions[0].answer.as_deref(), Some("Blue"));

    // A tool the user declines with Esc at its prompt: the turn says it was interrupted
    // (Esc while the model works writes nothing: docs/agents-offline.md).
    let tmux = |args: &[&str]| {
        let ok = Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux {args:?}");
    };
    wait_for("the agent to be idle", || !sb.hooks_of("Stop").is_empty());
    tmux(&["send-keys", "-l", "keep going"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux(&["send-keys", "Enter"]);
    wait_for("the Bash permission request", || {
        sb.hooks_of("PermissionRequest")
            .iter()
            .any(|p| p["tool_name"] == "Bash")
    });
    let screen = || {
        Command::new("tmux")
            .args(["-L", &socket, "capture-pane", "-p"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    wait_for("the permission prompt on the screen", || {
        screen().contains("Do you want to proceed?")
    });
    // A key sent as the dialog appears can be lost: Esc again until it is gone.
    wait_for("the prompt declined", || {
        tmux(&["send-keys", "Escape"]);
        std::thread::sleep(Duration::from_millis(500));
        !screen().contains("Do you want to proceed?")
    });
    let start = Instant::now();
    loop {
        reader.poll().expect("read");
        let page = reader.page(&Prices::default(), None, 10).expect("page");
        let last = page.turns.last().cloned().unwrap_or_default();
        if last.prompt.as_deref() == Some("keep going")
            && last.items.iter().any(|i| matches!(i, Item::Interrupted))
        {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(8).collect();
            panic!("no interruption in the last turn: {last:#?}\ntranscript tail: {tail:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let request = &fake.requests()[1];
    assert!(
        request
            .body
            .to_string()
            .contains(r#"\"Which colour should the button be?\"=\"Blue\""#),
        "the model was told the answer: {}",
        request.body
    );
}

#[test]
fn a_real_codex_rollout_reads_as_a_conversation() {
    let (_fake, sb, out) = codex_makes_a_file("Done, made.txt is there. Anything else?");
    let out = printed(&out);
    let rollouts = sb.rollouts();
    assert_eq!(rollouts.len(), 1, "{rollouts:?}\n{out}");
    let mut reader = ConversationReader::open(&AgentKind::Codex, &rollouts[0]).expect("open");
    reader.poll().expect("read");
    let page = reader.page(&Prices::default(), None, 10).expect("page");
    assert_eq!(page.agent, "codex");
    assert_eq!(page.turns.len(), 1, "{:#?}", page.turns);
    let t = &page.turns[0];
    assert_eq!(t.prompt.as_deref(), Some("please make a file"));
    let calls = tools(&t.items);
    assert_eq!(calls.len(), 1, "{:#?}", t.items);
    assert_eq!(
        (calls[0].summary.as_str(), calls[0].status),
        ("echo made-by-codex > made.txt", ToolStatus::Succeeded)
    );
    assert_eq!(texts(&t.items), ["Done, made.txt is there. Anything else?"]);
    assert_eq!(t.question.as_deref(), Some("Anything else?"));
    let input: u64 = t.tokens.iter().map(|u| u.input + u.cache_read).sum();
    let output: u64 = t.tokens.iter().map(|u| u.output).sum();
    assert_eq!((input, output), (230, 28), "{:?}", t.tokens);
}
