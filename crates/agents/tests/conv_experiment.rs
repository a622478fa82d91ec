use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::json;
use std::process::{Command, Stdio};

fn run(mut cmd: Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("run");
    format!("{}\n{}\n{:?}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr), out.status)
}

#[test]
#[ignore]
fn record() {
    let claude = agents::claude_bin().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sb = ClaudeSandbox::new(&format!("http://{addr}")).unwrap();
    let file = sb.project().join("notes.md");
    std::fs::write(&file, "# Notes\nold line\n").unwrap();
    let path = file.display().to_string();
    let script = Script::new()
        .then(Reply::tool_use("Bash", json!({"command": "ls", "description": "List files"}))
            .with_thinking("I should look around first.")
            .with_text("Let me look at the project.")
            .when(When::UserSays("tidy the notes".into()))
            .usage(Usage::new(100, 10)))
        .then(Reply::tool_use("Read", json!({"file_path": path})).when(When::ToolResult))
        .then(Reply::tool_use("Edit", json!({"file_path": path, "old_string": "old line", "new_string": "new line"})).when(When::ToolResult))
        .then(Reply::tool_use("Agent", json!({"description": "Check notes", "prompt": "SUBAGENT check the notes file", "subagent_type": "general-purpose"})).when(When::ToolResult))
        .then(Reply::tool_use("Bash", json!({"command": "wc -l notes.md", "description": "Count"})).when(When::UserSays("SUBAGENT".into())))
        .then(Reply::text("The notes have 2 lines.").when(When::ToolResult))
        .then(Reply::tool_use("Bash", json!({"command": "false", "description": "Fail"})).when(When::ToolResult))
        .then(Reply::text("Done: the notes say **new line** now.\n\n```sh\ncat notes.md\n```\n\nShall I commit?").when(When::ToolResult).usage(Usage::new(300, 30)))
        .then(Reply::error(500, "api_error", "Internal server error").should_retry(false).when(When::UserSays("second".into())))
        ;
    let fake = FakeApi::start_listening(listener, script).unwrap();
    let mut cmd = Command::new(&claude);
    sb.apply(&mut cmd);
    cmd.args(["-p", "tidy the notes", "--tools", "Bash,Read,Edit,Agent", "--allowedTools", "Bash,Read,Edit,Agent"]);
    println!("RUN1 {}", run(cmd));
    let mut cmd = Command::new(&claude);
    sb.apply(&mut cmd);
    cmd.args(["-p", "-c", "second", "--tools", "Bash,Read,Edit,Agent", "--allowedTools", "Bash,Read,Edit,Agent"]);
    println!("RUN2 {}", run(cmd));
    let mut cmd = Command::new(&claude);
    sb.apply(&mut cmd);
    cmd.args(["-p", "-c", "/compact"]);
    println!("RUN3 {}", run(cmd));
    println!("{}", fake.log());
    let _ = Command::new("cp").args(["-r", &sb.transcripts_dir().display().to_string(), "/tmp/conv-exp/"]).status();
}

#[test]
#[ignore]
fn ask() {
    let claude = agents::claude_bin().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sb = ClaudeSandbox::new(&format!("http://{addr}")).unwrap();
    let q = json!({"questions": [{"question": "Which colour should the button be?", "header": "Colour", "multiSelect": false,
        "options": [{"label": "Red", "description": "Bold"}, {"label": "Blue", "description": "Calm"}]}]});
    let script = Script::new()
        .then(Reply::tool_use("AskUserQuestion", q).when(When::UserSays("paint".into())))
        .then(Reply::text("Painting it as chosen.").when(When::ToolResult));
    let fake = FakeApi::start_listening(listener, script).unwrap();
    let mut cmd = Command::new("tmux");
    sb.apply(&mut cmd);
    let sock = format!("convexp{}", std::process::id());
    cmd.args(["-L", &sock, "new-session", "-d", "-x", "120", "-y", "40"]).arg(format!("{} --permission-mode manual --settings '{}' 'paint the button'; sleep 100", claude.display(), sb.recording_settings()));
    assert!(cmd.status().unwrap().success());
    let start = std::time::Instant::now();
    while sb.hooks_of("PermissionRequest").is_empty() && start.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pr = sb.hooks_of("PermissionRequest");
    println!("PR {}", serde_json::to_string(&pr).unwrap());
    let mut input = pr.first().map(|p| p["tool_input"].clone()).unwrap_or(json!({}));
    input["answers"] = json!({"Which colour should the button be?": "Blue"});
    let out = json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "allow", "updatedInput": input}}});
    std::fs::write(sb.root().join("decisions/next.json"), out.to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    let out = Command::new("tmux").args(["-L", &sock, "capture-pane", "-p"]).output().unwrap();
    println!("SCREEN {}", String::from_utf8_lossy(&out.stdout));
    let _ = Command::new("tmux").args(["-L", &sock, "kill-server"]).status();
    println!("{}", fake.log());
    for t in sb.transcripts() {
        for l in std::fs::read_to_string(t).unwrap().lines() {
            if l.contains("AskUserQuestion") || l.contains("tool_result") { println!("L {}", &l[..l.len().min(1500)]); }
        }
    }
}
