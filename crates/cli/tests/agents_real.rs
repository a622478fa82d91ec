//! The real agent CLIs (Claude Code, Codex), installed by `scripts/install-agents.sh`, driven
//! offline against `paddock-fakeapi`: in a real PTY under `paddock run`, typed into with
//! `paddock send`, their hooks, transcripts, rollouts and notify calls checked. These tests
//! fail (they never skip) when the CLIs are not installed; the message says how to install.

#[path = "common/claude.rs"]
mod claude;
mod common;

use common::*;
use paddock_fakeapi::agents::{self, ClaudeSandbox, CodexSandbox};
use paddock_fakeapi::claude_session::prompt_ready;
use paddock_fakeapi::{FakeApi, Recorded, Reply, Script, Usage, When};
use serde_json::{json, Value};
use std::time::Duration;

/// Generous: the CLIs are large programs and the machine is shared.
const T: Duration = Duration::from_secs(90);

/// A real `claude` in manual permission mode under `paddock run`, in a sandbox talking to a
/// fake API, every hook recorded; waits until its prompt is ready.
struct Claude {
    env: Env,
    fake: FakeApi,
    sandbox: ClaudeSandbox,
    id: String,
    /// The supervisor, for the flows that go through it (dropped last).
    _sup: Option<Supervisor>,
}

impl Claude {
    fn start(script: Script) -> Self {
        Self::start_with(script, false, false, &[], &[])
    }

    /// With `paddock up` running first, so the hooks Paddock injects reach it.
    fn start_supervised(script: Script) -> Self {
        Self::start_with(script, true, false, &[], &[])
    }

    /// With the task-list tools offered to the model.
    fn start_with_task_tools(script: Script) -> Self {
        Self::start_with(script, false, true, &[], &[])
    }

    /// `paddock run` from a shell that has `inherited` set, with `run_args` for `paddock run`.
    fn start_from_shell_with(
        script: Script,
        inherited: &[(&str, &str)],
        run_args: &[&str],
    ) -> Self {
        Self::start_as(script, false, false, false, inherited, run_args)
    }

    /// With `paddock up` running and `paddock run --no-hooks`: the supervisor hears nothing
    /// from Paddock's hooks, only what the terminal carries.
    fn start_supervised_without_hooks(script: Script) -> Self {
        Self::start_as(script, true, false, false, &[], &[])
    }

    fn start_with(
        script: Script,
        supervised: bool,
        task_tools: bool,
        inherited: &[(&str, &str)],
        run_args: &[&str],
    ) -> Self {
        Self::start_as(
            script, supervised, task_tools, supervised, inherited, run_args,
        )
    }

    fn start_as(
        script: Script,
        supervised: bool,
        task_tools: bool,
        hooks: bool,
        inherited: &[(&str, &str)],
        run_args: &[&str],
    ) -> Self {
        let env = Env::new();
        let sup = supervised.then(|| env.up());
        let fake = FakeApi::start(script).expect("fake API");
        let mut sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
        if task_tools {
            sandbox = sandbox.with_task_tools();
        }
        let settings = sandbox.recording_settings();
        let mut args = vec!["--name", "claude"];
        args.extend_from_slice(run_args);
        if !hooks {
            // The harness and the CLI alone, with the sandbox's recording hooks only;
            // supervised flows add Paddock's injected hooks to them.
            args.push("--no-hooks");
        }
        let id = claude::start_claude_with(
            &env,
            &sandbox,
            inherited,
            &args,
            &["--permission-mode", "manual", "--settings", &settings],
            T,
        );
        Self {
            env,
            fake,
            sandbox,
            id,
            _sup: sup,
        }
    }

    /// This session's `ls --json` row once `pred` holds for it.
    fn wait_row(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.env.wait_row(&self.id, what, T, pred)
    }

    fn wait_state(&self, state: &str) -> Value {
        self.wait_row(&format!("state {state}"), |r| r["state"] == state)
    }

    /// Waits for the pending permission request and returns its id. The screen can show
    /// the prompt (and the session be `waiting_permission`) a moment before Claude Code's
    /// PermissionRequest hook reaches the supervisor and opens the request.
    fn wait_request(&self) -> String {
        let row = self.wait_row("a pending permission request", |r| {
            r["state"] == "waiting_permission" && r["permission"]["id"].is_string()
        });
        row["permission"]["id"]
            .as_str()
            .expect("request id")
            .to_owned()
    }

    /// Waits until Claude Code's hooks say it sits at its fresh prompt: ready for a message.
    /// (A Claude Code slow to boot can be `idle` a moment earlier, from its silence alone.)
    fn wait_ready(&self) -> Value {
        self.wait_row("idle from Claude Code's hooks", |r| {
            r["state"] == "idle" && r["sources"][0] == "hooks"
        })
    }

    /// `paddock approvals --json`.
    fn approvals(&self) -> Vec<Value> {
        serde_json::from_str(&self.env.ok(&["approvals", "--json"])).expect("approvals JSON")
    }

    /// Types `text` and Enter, as a user would.
    fn say(&self, text: &str) {
        self.env.ok(&["send", &self.id, "--enter", text]);
    }

    fn wait_screen(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.env.wait_screen(&self.id, what, T, pred)
    }

    /// Enter at Claude Code's permission prompt picks "1. Yes", as its owner at the terminal
    /// would. A key landing as the dialog is drawn can be lost (docs/agents-offline.md), so
    /// Enter is pressed again while the prompt is still there, as a person would.
    fn allow_at_the_terminal(&self) {
        const PROMPT: &str = "Do you want to proceed?";
        self.wait_screen("the permission prompt", |s| s.contains(PROMPT));
        for _ in 0..5 {
            self.env.ok(&["send", &self.id, "--enter", ""]);
            let gone = std::time::Instant::now() + Duration::from_secs(2);
            while std::time::Instant::now() < gone && self.env.screen(&self.id).contains(PROMPT) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if !self.env.screen(&self.id).contains(PROMPT) {
                break;
            }
        }
    }

    /// Waits for a hook payload of `event` that satisfies `pred`.
    fn wait_hook(&self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let mut found = None;
        wait_until(&format!("a {event} hook"), T, || {
            found = self.sandbox.hooks_of(event).into_iter().find(|p| pred(p));
            found.is_some()
        });
        found.expect("found")
    }
}

impl Drop for Claude {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let events: Vec<String> = self
                .sandbox
                .hook_payloads()
                .iter()
                .map(|p| p["hook_event_name"].as_str().unwrap_or("?").to_owned())
                .collect();
            eprintln!("--- hooks that ran: {events:?}");
            eprintln!("--- claude's screen:\n{}", self.env.screen(&self.id));
        }
    }
}

/// The fake's turn that carries the result of tool call `id`.
fn tool_result_turn(fake: &FakeApi, id: &str) -> Recorded {
    fake.wait_for(&format!("the result of tool call {id}"), T, |r| {
        r.tool_results().iter().any(|t| t.id == id)
    })
}

/// The script of a turn that wants to run `command` in Bash, then says `done` once it has the
/// tool's result.
fn bash_then_text(command: &str, done: &str) -> Script {
    Script::new()
        .then(
            Reply::text("I will create the file.")
                .with_tool_use(
                    "Bash",
                    json!({"command": command, "description": "Create made.txt"}),
                )
                .when(When::UserSays("please make a file".into()))
                .usage(Usage::new(1200, 40).with_cache(300, 500)),
        )
        .then(
            Reply::text(done)
                .when(When::ToolResult)
                .usage(Usage::new(1300, 12)),
        )
}

/// Permission prompt shown on the screen and announced to the PermissionRequest hook; then
/// returns the tool call's id.
fn wait_for_permission_prompt(c: &Claude, command: &str) -> String {
    let request = c.wait_hook("PermissionRequest", |p| {
        p["tool_name"] == "Bash" && p["tool_input"]["command"] == command
    });
    assert!(request["session_id"].is_string(), "{request}");
    c.wait_screen("the permission prompt", |s| {
        s.contains("Do you want to proceed?") && s.contains(command)
    });
    let pre = c.wait_hook("PreToolUse", |p| p["tool_name"] == "Bash");
    pre["tool_use_id"]
        .as_str()
        .expect("PreToolUse carries tool_use_id")
        .to_owned()
}

#[test]
fn claude_permission_allowed_by_a_hook_runs_the_tool_and_the_model_gets_its_result() {
    let command = "echo made-by-claude > made.txt";
    let c = Claude::start(bash_then_text(command, "Done: made.txt exists."));
    c.say("please make a file");

    let submitted = c.wait_hook("UserPromptSubmit", |_| true);
    assert_eq!(submitted["prompt"], "please make a file");
    let first = c.fake.wait_for("the typed prompt", T, |r| {
        r.is_turn() && r.last_user_text().contains("please make a file")
    });
    assert_eq!(first.reply, Some(0), "{}", c.fake.log());

    let tool_id = wait_for_permission_prompt(&c, command);
    let made = c.sandbox.project().join("made.txt");
    assert!(!made.exists(), "the tool ran before anyone allowed it");

    c.sandbox.allow_next().expect("write the decision");
    wait_until("made.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "made-by-claude\n")
    });
    let result = tool_result_turn(&c.fake, &tool_id);
    let tr = &result.tool_results()[0];
    assert!(!tr.is_error, "the allowed tool failed: {tr:?}");
    assert_eq!(result.reply, Some(1));

    let stop = c.wait_hook("Stop", |_| true);
    assert_eq!(stop["last_assistant_message"], "Done: made.txt exists.");
    c.wait_screen("the final answer", |s| s.contains("Done: made.txt exists."));
    let post = c.wait_hook("PostToolUse", |p| p["tool_use_id"] == tool_id.as_str());
    assert_eq!(post["tool_name"], "Bash");

    // The transcript has the turn with the usage the fake reported.
    let transcript = c.sandbox.transcripts();
    assert_eq!(transcript.len(), 1, "{transcript:?}");
    let records = agents::read_jsonl(&transcript[0]);
    let usage = records
        .iter()
        .find(|r| r["type"] == "assistant" && r["message"]["usage"]["input_tokens"] == 1200)
        .map(|r| r["message"]["usage"].clone())
        .expect("the first answer's usage in the transcript");
    assert_eq!(usage["cache_read_input_tokens"], 500);
    assert_eq!(usage["cache_creation_input_tokens"], 300);
}

#[test]
fn claude_permission_denied_by_a_hook_tells_the_model_why() {
    let command = "echo should-not-run > made.txt";
    let why = "Denied from Paddock: not in this folder, please";
    let c = Claude::start(bash_then_text(command, "Understood, I will not create it."));
    c.say("please make a file");

    let tool_id = wait_for_permission_prompt(&c, command);
    c.sandbox.deny_next(why).expect("write the decision");

    let result = tool_result_turn(&c.fake, &tool_id);
    let tr = &result.tool_results()[0];
    assert!(tr.is_error, "a denial is an error result: {tr:?}");
    assert!(tr.text.contains(why), "the model was not told why: {tr:?}");
    let stop = c.wait_hook("Stop", |_| true);
    assert_eq!(
        stop["last_assistant_message"],
        "Understood, I will not create it."
    );
    assert!(
        !c.sandbox.project().join("made.txt").exists(),
        "the denied tool ran"
    );
}

#[test]
fn claude_api_error_ends_the_turn_with_stop_failure_and_shows_the_error() {
    // `should_retry(false)` sends `x-should-retry: false`: without it Claude Code retries
    // (up to 10 attempts with backoff) before giving up.
    let c = Claude::start(
        Script::new().then(
            Reply::error(529, "overloaded_error", "Overloaded")
                .should_retry(false)
                .when(When::UserSays("are you there".into())),
        ),
    );
    c.say("are you there?");
    let failure = c.wait_hook("StopFailure", |_| true);
    assert_eq!(failure["error"], "server_error", "{failure}");
    assert!(
        failure["last_assistant_message"]
            .as_str()
            .is_some_and(|m| m.contains("529")),
        "{failure}"
    );
    c.wait_screen("the API error", |s| s.contains("API Error: 529"));
    assert_eq!(c.fake.times_used(0), 1, "{}", c.fake.log());
    assert!(
        c.sandbox.hooks_of("Stop").is_empty(),
        "a failed turn is not a Stop"
    );
}

#[test]
fn claude_task_tools_keep_the_agents_task_list() {
    // The task tools are deferred: the model loads them with ToolSearch before calling them.
    let c = Claude::start_with_task_tools(
        Script::new()
            .then(
                Reply::tool_use(
                    "ToolSearch",
                    json!({"query": "select:TaskCreate,TaskUpdate", "max_results": 5}),
                )
                .when(When::UserSays("plan it".into())),
            )
            .then(
                Reply::tool_use(
                    "TaskCreate",
                    json!({"subject": "Write the parser", "description": "Parse the input",
                           "activeForm": "Writing the parser"}),
                )
                .with_tool_use(
                    "TaskCreate",
                    json!({"subject": "Test the parser", "description": "Cover the edge cases",
                           "activeForm": "Testing the parser"}),
                )
                .when(When::ToolResult),
            )
            .then(
                Reply::tool_use("TaskUpdate", json!({"taskId": "1", "status": "completed"}))
                    .when(When::ToolResult),
            )
            .then(Reply::text("Planned.").when(When::ToolResult)),
    );
    c.say("please plan it");
    c.wait_hook("Stop", |p| p["last_assistant_message"] == "Planned.");
    c.wait_screen("the task list", |s| s.contains("1/2 tasks done"));
    let session = c.wait_hook("SessionStart", |_| true)["session_id"]
        .as_str()
        .expect("session id")
        .to_owned();
    let dir = c.sandbox.home().join(".claude/tasks").join(&session);
    let task: Value =
        serde_json::from_slice(&std::fs::read(dir.join("1.json")).expect("task 1 file"))
            .expect("task json");
    assert_eq!(task["subject"], "Write the parser");
    assert_eq!(task["status"], "completed");
    // The two calls of one message may run together: compare without order.
    let mut subjects: Vec<String> = c
        .sandbox
        .hooks_of("TaskCreated")
        .iter()
        .filter_map(|p| p["task_subject"].as_str().map(str::to_owned))
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["Test the parser", "Write the parser"]);
    let done = c.wait_hook("TaskCompleted", |_| true);
    assert_eq!(done["task_id"], "1");
    let created = c.sandbox.hooks_of("PostToolUse");
    assert_eq!(
        created
            .iter()
            .filter(|p| p["tool_name"] == "TaskCreate")
            .count(),
        2
    );
}

/// The records of the rollout whose task is `task` (the interactive TUI may write others).
fn rollout_records(sb: &CodexSandbox, task: &str) -> Vec<Value> {
    sb.rollouts()
        .iter()
        .map(|f| agents::read_jsonl(f))
        .find(|records| {
            records.iter().any(|r| {
                r["payload"]["type"] == "message"
                    && r["payload"]["role"] == "user"
                    && r["payload"]["content"][0]["text"] == task
            })
        })
        .unwrap_or_default()
}

/// A Codex turn: run a shell command, then answer. Tokens over the two requests: 230 in (64
/// cached), 28 out.
fn codex_script(cmd: &str) -> Script {
    Script::new()
        .then(
            Reply::tool_use("exec_command", json!({"cmd": cmd}))
                .with_thinking("I should run a command.")
                .when(When::UserSays("please make a file".into()))
                .usage(Usage::new(100, 20)),
        )
        .then(
            Reply::text("Done, made.txt is there.")
                .when(When::ToolResult)
                .usage(Usage::new(130, 8).with_cache(0, 64)),
        )
}

fn assert_codex_turn(sb: &CodexSandbox, fake: &FakeApi, cmd: &str) {
    let made = sb.project().join("made.txt");
    wait_until("made.txt written by codex's shell tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "made-by-codex\n")
    });
    let result = fake.wait_for("the shell command's output", T, |r| {
        r.ends_with_tool_result()
    });
    assert!(
        result.tool_results()[0].text.contains("exited with code 0"),
        "{:?}",
        result.tool_results()
    );

    let mut records = Vec::new();
    wait_until("the rollout's task_complete", T, || {
        records = rollout_records(sb, "please make a file");
        records
            .iter()
            .any(|r| r["payload"]["type"] == "task_complete")
    });
    let of = |kind: &str, payload: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["type"] == kind && r["payload"]["type"] == payload)
            .map(|r| &r["payload"])
            .collect()
    };
    let meta = records
        .iter()
        .find(|r| r["type"] == "session_meta")
        .expect("session_meta");
    assert_eq!(
        meta["payload"]["cwd"],
        sb.project().display().to_string().as_str()
    );
    assert!(
        of("response_item", "message")
            .iter()
            .any(|m| m["role"] == "user" && m["content"][0]["text"] == "please make a file"),
        "the task is not in the rollout"
    );
    let call = of("response_item", "function_call");
    assert_eq!(call.len(), 1);
    assert_eq!(call[0]["name"], "exec_command");
    let args: Value =
        serde_json::from_str(call[0]["arguments"].as_str().expect("arguments")).expect("json");
    assert_eq!(args["cmd"], cmd);
    assert_eq!(of("response_item", "function_call_output").len(), 1);
    let totals = of("event_msg", "token_count")
        .last()
        .map(|p| p["info"]["total_token_usage"].clone())
        .expect("a token_count event");
    assert_eq!(totals["input_tokens"], 230, "{totals}");
    assert_eq!(totals["cached_input_tokens"], 64, "{totals}");
    assert_eq!(totals["output_tokens"], 28, "{totals}");
    assert_eq!(
        of("event_msg", "task_complete")[0]["last_agent_message"],
        "Done, made.txt is there."
    );

    // The interactive TUI also runs a side turn to title the thread, and notifies for it too:
    // look for the notification of the user's turn.
    let mut note = None;
    wait_until(
        "codex's notify program to be called for the turn",
        T,
        || {
            note = sb
                .notifications()
                .into_iter()
                .find(|n| n["input-messages"] == json!(["please make a file"]));
            note.is_some()
        },
    );
    let note = note.expect("found");
    assert_eq!(note["type"], "agent-turn-complete");
    assert_eq!(note["last-assistant-message"], "Done, made.txt is there.");
    assert_eq!(
        note["thread-id"], meta["payload"]["id"],
        "the notification names the rollout's thread"
    );
}

#[test]
fn codex_exec_runs_a_function_call_and_writes_the_rollout_and_notifies() {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let mut c = std::process::Command::new(codex);
    sb.apply(&mut c);
    let mut child = c
        .args(["exec", "--skip-git-repo-check", "please make a file"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start codex exec");
    let mut status = None;
    wait_until("codex exec to finish", T, || {
        status = child.try_wait().expect("wait for codex");
        status.is_some()
    });
    let out = child.wait_with_output().expect("codex output");
    assert!(
        status.is_some_and(|s| s.success()),
        "codex exec failed: {status:?}\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        fake.log()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Done, made.txt is there."));
    assert_codex_turn(&sb, &fake, cmd);
}

#[test]
fn install_check_on_an_empty_cache_names_the_install_script() {
    // Point the lookup at an empty cache: the error must say how to get the CLIs.
    let empty = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new("sh")
        .args(["-c", "../../scripts/install-agents.sh --check"])
        .env("PADDOCK_AGENTS_DIR", empty.path())
        .output()
        .expect("run the install script");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not installed") && err.contains("scripts/install-agents.sh"),
        "{err}"
    );
    let left = std::fs::read_dir(empty.path()).expect("cache dir").count();
    assert_eq!(left, 0, "--check must not install anything");
}

#[test]
fn codex_interactive_under_paddock_run_runs_a_typed_turn() {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    let mut run = env.cmd();
    sb.apply(&mut run);
    // --no-hooks: the CLI with the sandbox's notify program only, not Paddock's injected one.
    let out = run
        .args(["run", "--no-hooks", "--name", "codex"])
        .args(["--cols", "120", "--rows", "40", "--"])
        .arg(&codex)
        .output()
        .expect("paddock run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // Ready once the footer names the model (the logo animation comes first).
    env.wait_screen(&id, "Codex's prompt", T, |s| {
        s.contains("gpt-fake") && s.contains("? for shortcuts")
    });
    // Text and Enter in one write would be taken as a paste (Enter inserts a newline), so
    // type, wait for the text to show, then press Enter alone.
    env.ok(&["send", &id, "please make a file"]);
    env.wait_screen(&id, "the typed prompt", T, |s| {
        s.contains("please make a file")
    });
    env.ok(&["send", &id, "--enter", ""]);
    assert_codex_turn(&sb, &fake, cmd);
    env.wait_screen(&id, "the answer", T, |s| {
        s.contains("Done, made.txt is there.")
    });
}

#[test]
fn codex_interactive_asks_before_an_escalated_command_and_y_runs_it() {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let cmd = "echo approved-in-codex > made.txt";
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::tool_use(
                    "exec_command",
                    json!({"cmd": cmd, "sandbox_permissions": "require_escalated",
                           "justification": "Write made.txt in the project?"}),
                )
                .when(When::UserSays("please make a file".into())),
            )
            .then(Reply::text("Done, made.txt is there.").when(When::ToolResult)),
    )
    .expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    let mut run = env.cmd();
    sb.apply(&mut run);
    let out = run
        .args(["run", "--no-hooks", "--name", "codex"])
        .args(["--cols", "120", "--rows", "40", "--"])
        .arg(&codex)
        // Ask before anything leaves the (read-only) sandbox.
        .args([
            "-c",
            "approval_policy=on-request",
            "-c",
            "sandbox_mode=read-only",
        ])
        .output()
        .expect("paddock run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    env.wait_screen(&id, "Codex's prompt", T, |s| {
        s.contains("gpt-fake") && s.contains("? for shortcuts")
    });
    env.ok(&["send", &id, "please make a file"]);
    env.wait_screen(&id, "the typed prompt", T, |s| {
        s.contains("please make a file")
    });
    env.ok(&["send", &id, "--enter", ""]);
    let prompt = env.wait_screen(&id, "the approval prompt", T, |s| {
        s.contains("Would you like to run the following command?")
    });
    assert!(
        prompt.contains("Write made.txt in the project?"),
        "{prompt}"
    );
    assert!(prompt.contains(cmd), "{prompt}");
    let made = sb.project().join("made.txt");
    assert!(!made.exists(), "the command ran before it was approved");
    // `y` answers; a key that lands while the dialog is still being drawn can be lost, so
    // press it again while the question is still on the screen (as a person would).
    wait_until("made.txt written by the approved command", T, || {
        if std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-in-codex\n") {
            return true;
        }
        if env
            .screen(&id)
            .contains("Would you like to run the following command?")
        {
            env.ok(&["send", &id, "y"]);
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    });
    let result = fake.wait_for("the approved command's output", T, |r| {
        r.ends_with_tool_result()
    });
    assert!(
        result.tool_results()[0].text.contains("exited with code 0"),
        "{:?}",
        result.tool_results()
    );
    env.wait_screen(&id, "the answer", T, |s| {
        s.contains("Done, made.txt is there.")
    });
}

#[test]
fn claude_through_paddock_idle_working_waiting_permission_approved_then_waiting_input() {
    let command = "echo approved-in-paddock > made.txt";
    let c = Claude::start_supervised(bash_then_text(command, "Done: made.txt exists."));
    let row = c.wait_ready();
    assert_eq!(row["agent"], "claude");
    assert_eq!(row["sources"][0], "hooks", "{row}");

    let out = c.env.ok(&["message", "claude", "please make a file"]);
    assert!(out.starts_with("submitted: "), "{out}");
    let row = c.wait_row("the permission request in the state", |r| {
        r["state"] == "waiting_permission" && r["permission"]["input"]["command"] == command
    });
    assert_eq!(row["tool"], "Bash");
    assert_eq!(row["sources"][0], "hooks");
    let pending = c.approvals();
    assert_eq!(pending.len(), 1, "{pending:#?}");
    let req = &pending[0];
    for key in ["id", "session", "tool", "input", "created_at"] {
        assert!(!req[key].is_null(), "approvals --json lacks {key}: {req}");
    }
    assert_eq!(req["session"], c.id.as_str());
    assert_eq!(req["tool"], "Bash");
    assert_eq!(req["input"]["command"], command);
    let id = req["id"].as_str().expect("id").to_owned();
    let made = c.sandbox.project().join("made.txt");
    assert!(!made.exists(), "the tool ran before anyone allowed it");

    let out = c.env.ok(&["approve", &id]);
    assert!(out.contains("allowed"), "{out}");
    wait_until("made.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-in-paddock\n")
    });
    let tool_id = c
        .wait_hook("PreToolUse", |p| p["tool_name"] == "Bash")
        .get("tool_use_id")
        .and_then(Value::as_str)
        .expect("tool_use_id")
        .to_owned();
    let result = tool_result_turn(&c.fake, &tool_id);
    assert!(
        !result.tool_results()[0].is_error,
        "{:?}",
        result.tool_results()
    );
    let row = c.wait_state("waiting_input");
    assert!(row["permission"].is_null(), "{row}");
    assert!(c.approvals().is_empty(), "nothing left to answer");

    // The transcript, read as it grew: the task, the action, the tokens of both answers.
    let mut shown = Value::Null;
    wait_until(
        "the transcript's second answer in `paddock show`",
        T,
        || {
            shown = serde_json::from_str(&c.env.ok(&["show", "claude", "--json"])).expect("JSON");
            shown["insight"]["tokens"]["output"] == 52
        },
    );
    let insight = &shown["insight"];
    assert_eq!(insight["current_task"], "please make a file", "{insight:#}");
    let action = insight["recent_actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["tool"] == "Bash"))
        .unwrap_or_else(|| panic!("no Bash action: {insight:#}"));
    assert!(
        action["input_summary"]
            .as_str()
            .is_some_and(|s| s.contains("approved-in-paddock")),
        "{action}"
    );
    assert_eq!(action["status"], "succeeded", "{action}");
    assert_eq!(insight["tokens"]["input"], 2500, "{insight:#}");
    assert_eq!(insight["tokens"]["cache_read"], 500);
    assert_eq!(insight["tokens"]["cache_creation"], 300);

    // A late answer is refused and says who answered first.
    let late = c.env.paddock(&["deny", &id]);
    assert!(!late.status.success());
    let err = String::from_utf8_lossy(&late.stderr);
    assert!(err.contains("already allowed by cli"), "{err}");

    // The process killed: exited, with how.
    c.env.ok(&["kill", "claude"]);
    let row = c.wait_state("exited");
    assert_eq!(row["exit_code"], 137, "{row}");
}

#[test]
fn claude_denied_through_paddock_is_told_why_and_a_question_is_answered_by_message() {
    let command = "echo must-not-run > made.txt";
    let why = "not in this folder, use /tmp";
    let script = bash_then_text(command, "Which folder should I use instead?").then(
        Reply::text("Creating it in /tmp then.")
            .when(When::UserSays("use /tmp".into()))
            .usage(Usage::new(1400, 9)),
    );
    let c = Claude::start_supervised(script);
    c.wait_ready();
    c.env.ok(&["message", "claude", "please make a file"]);
    let id = c.wait_request();
    c.env.ok(&["deny", &id, "--message", why]);
    let tool_id = c
        .wait_hook("PreToolUse", |p| p["tool_name"] == "Bash")
        .get("tool_use_id")
        .and_then(Value::as_str)
        .expect("tool_use_id")
        .to_owned();
    let result = tool_result_turn(&c.fake, &tool_id);
    let tr = &result.tool_results()[0];
    assert!(
        tr.is_error && tr.text.contains(why),
        "the agent was not told why: {tr:?}"
    );
    assert!(
        !c.sandbox.project().join("made.txt").exists(),
        "the denied tool ran"
    );

    // The agent asks a question: it waits for input; a message from Paddock answers it.
    c.wait_state("waiting_input");
    c.env.ok(&["message", "claude", "use /tmp"]);
    c.fake.wait_for("the typed answer", T, |r| {
        r.is_turn() && r.last_user_text().contains("use /tmp")
    });
    c.wait_screen("the reply", |s| s.contains("Creating it in /tmp then."));
    c.wait_state("waiting_input");
}

#[test]
fn claude_api_failure_is_errored_with_the_reason() {
    let c = Claude::start_supervised(
        Script::new().then(
            Reply::error(529, "overloaded_error", "Overloaded")
                .should_retry(false)
                .when(When::UserSays("are you there".into())),
        ),
    );
    c.wait_ready();
    c.env.ok(&["message", "claude", "are you there?"]);
    let row = c.wait_state("errored");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|r| r.contains("server_error")),
        "{row}"
    );
}

#[test]
fn claude_in_tmux_that_paddock_did_not_start_waits_for_permission_and_is_approved_through_paddock()
{
    let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
    let command = "echo approved-from-afar > made.txt";
    let fake = FakeApi::start(bash_then_text(command, "Done: made.txt exists.")).expect("fake");
    let sb = ClaudeSandbox::new(&fake.url()).expect("sandbox");
    let env = Env::new();
    // The supervisor reads the status files of the sandbox's Claude Code.
    let _sup = env.up_with(&[("HOME".into(), sb.home().display().to_string())]);
    let mut line = format!("cd '{}' && exec env", sb.project().display());
    for k in sb.unset() {
        line.push_str(&format!(" -u {k}"));
    }
    for (k, v) in sb.env() {
        line.push_str(&format!(" {k}='{v}'"));
    }
    // Plain `claude` with no Paddock hooks: only its screen and status file tell its state.
    line.push_str(&format!(" '{}' --permission-mode manual", claude.display()));
    let server = format!("pdk-cc-{}", std::process::id());
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .env("TMUX_TMPDIR", env.dir())
            .args(["-L", &server])
            .args(args)
            .output()
            .expect("tmux")
    };
    let out = tmux(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "40",
        &line,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    struct KillServer<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for KillServer<'_> {
        fn drop(&mut self) {
            (self.0)(&["kill-server"]);
        }
    }
    let _kill = KillServer(&tmux);
    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
    wait_until("Claude Code's prompt in the pane", T, || {
        prompt_ready(&capture())
    });
    let mut row = Value::Null;
    wait_until("paddock to find and bridge the pane", T, || {
        row = env
            .ls()
            .into_iter()
            .find(|r| r["agent"] == "claude" && r["backend"] == "tmux")
            .unwrap_or(Value::Null);
        !row.is_null()
    });
    let id = row["id"].as_str().expect("id").to_owned();

    env.ok(&["message", &id, "please make a file"]);
    let mut shown = None;
    let mut waiting = None;
    wait_until(
        "the prompt in the pane and waiting_permission in paddock",
        T,
        || {
            if shown.is_none() && capture().contains("Do you want to proceed?") {
                shown = Some(std::time::Instant::now());
            }
            if waiting.is_none() {
                let r = env.ls().into_iter().find(|r| r["id"] == id.as_str());
                if let Some(r) = r.filter(|r| r["state"] == "waiting_permission") {
                    waiting = Some((std::time::Instant::now(), r));
                }
            }
            shown.is_some() && waiting.is_some()
        },
    );
    let (at, _) = waiting.expect("waiting");
    if let Some(shown) = shown {
        eprintln!(
            "waiting_permission seen {:?} after the prompt was on the pane (ls polling included)",
            at.saturating_duration_since(shown)
        );
    }
    // The status file may say "waiting" a moment before the screen names the tool.
    let mut row = Value::Null;
    wait_until("the screen to name the tool", T, || {
        row = env
            .ls()
            .into_iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or(Value::Null);
        row["tool"] == "Bash"
    });
    assert_eq!(row["state"], "waiting_permission", "{row}");
    let sources: Vec<&str> = row["sources"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        sources.contains(&"screen") || sources.contains(&"status_file"),
        "{row}"
    );
    let pending: Vec<Value> =
        serde_json::from_str(&env.ok(&["approvals", "--json"])).expect("approvals JSON");
    let req = pending
        .iter()
        .find(|r| r["session"] == id.as_str())
        .unwrap_or_else(|| panic!("no request for {id}: {pending:#?}"));
    assert_eq!(req["channel"], "terminal");
    assert!(
        req["input"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("approved-from-afar")),
        "{req}"
    );
    let made = sb.project().join("made.txt");
    env.ok(&["approve", req["id"].as_str().expect("id")]);
    wait_until("made.txt written by the approved tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-from-afar\n")
    });
    wait_until("the agent to finish its turn", T, || {
        env.ls()
            .into_iter()
            .any(|r| r["id"] == id.as_str() && r["state"] == "waiting_input")
    });
}

#[test]
fn codex_through_paddock_works_runs_its_tool_and_waits_with_the_rollouts_actions_and_tokens() {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    let _sup = env.up();
    let mut run = env.cmd();
    sb.apply(&mut run);
    let out = run
        .args([
            "run", "--name", "codex", "--cols", "120", "--rows", "40", "--",
        ])
        .arg(&codex)
        .output()
        .expect("paddock run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    env.wait_screen(&id, "Codex's prompt", T, |s| {
        s.contains("gpt-fake") && s.contains("? for shortcuts")
    });
    let row = |env: &Env| {
        env.ls()
            .into_iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or(Value::Null)
    };
    // The supervisor adopts the holder and recognises the agent on its next scans.
    let mut found = Value::Null;
    wait_until("the supervisor to recognise the session's agent", T, || {
        found = row(&env);
        !found["agent"].is_null()
    });
    assert_eq!(found["agent"], "codex", "{found}");
    env.ok(&["message", "codex", "please make a file"]);
    assert_codex_turn(&sb, &fake, cmd);
    wait_until("codex waiting for input after its turn", T, || {
        row(&env)["state"] == "waiting_input"
    });
    let mut shown = Value::Null;
    wait_until("the rollout's insight in `paddock show`", T, || {
        shown = serde_json::from_str(&env.ok(&["show", "codex", "--json"])).expect("JSON");
        shown["insight"]["tokens"]["output"] == 28
    });
    let insight = &shown["insight"];
    assert_eq!(insight["current_task"], "please make a file", "{insight:#}");
    // Codex counts cached tokens inside its input; Paddock counts them apart, as Anthropic does.
    assert_eq!(insight["tokens"]["input"], 230 - 64, "{insight:#}");
    assert_eq!(insight["tokens"]["cache_read"], 64, "{insight:#}");
    let action = insight["recent_actions"]
        .as_array()
        .and_then(|a| a.first())
        .unwrap_or_else(|| panic!("no action: {insight:#}"));
    assert!(
        action["input_summary"]
            .as_str()
            .is_some_and(|s| s.contains("made-by-codex")),
        "{action}"
    );
}

#[test]
fn claude_interrupted_through_paddock_stops_and_gets_the_feedback() {
    let script = Script::new()
        .then(
            Reply::text("This will take a long while.")
                .gate("never")
                .when(When::UserSays("start the long job".into())),
        )
        .then(
            Reply::text("Understood, doing the short one.")
                .when(When::UserSays("do the short one".into()))
                .usage(Usage::new(10, 5)),
        );
    let c = Claude::start_supervised(script);
    c.wait_ready();
    c.env.ok(&["message", &c.id, "start the long job"]);
    c.wait_state("working");
    // Interrupt once the model has the turn: before that, the scripted long reply is still
    // unused and would answer the feedback too. Esc puts the interrupted prompt back in
    // Claude Code's composer (docs/agents-offline.md); Paddock empties it before typing the
    // feedback, so the feedback reaches the model alone.
    c.fake.wait_for("the long job at the model", T, |r| {
        r.is_turn() && r.prompt().contains("start the long job")
    });
    c.env
        .ok(&["interrupt", &c.id, "--message", "do the short one instead"]);
    let feedback = c.fake.wait_for("the feedback after the interrupt", T, |r| {
        r.is_turn() && r.last_user_text().contains("do the short one instead")
    });
    let text = feedback.last_user_text();
    assert!(
        text.trim_end().ends_with("do the short one instead")
            && !text.contains("start the long job"),
        "the feedback went with the interrupted prompt: {text:?}"
    );
    c.wait_screen("the answer to the feedback", |s| {
        s.contains("Understood, doing the short one.")
    });
    c.wait_state("waiting_input");
}

#[test]
fn a_message_to_claude_at_its_prompt_is_submitted_and_to_a_busy_claude_queued() {
    let script = Script::new().then(
        Reply::text("This will take a long while.")
            .gate("never")
            .when(When::UserSays("start the long job".into())),
    );
    let c = Claude::start_supervised(script);
    c.wait_ready();
    let out = c.env.ok(&["message", &c.id, "start the long job"]);
    assert!(out.starts_with("submitted: "), "{out}");
    c.fake.wait_for("the long job at the model", T, |r| {
        r.is_turn() && r.prompt().contains("start the long job")
    });
    c.wait_state("working");
    let out = c.env.ok(&["message", &c.id, "and then the tests"]);
    assert!(out.starts_with("queued: "), "{out}");
    assert!(out.contains("busy"), "{out}");
}

#[test]
fn a_message_of_several_lines_reaches_claude_as_one_message() {
    let script = Script::new()
        .then(Reply::text("Both lines read.").when(When::UserSays("second line".into())));
    let c = Claude::start_supervised(script);
    c.wait_ready();
    let out = c.env.ok(&["message", &c.id, "first line\nsecond line"]);
    assert!(out.starts_with("submitted: "), "{out}");
    let turn = c.fake.wait_for("the message at the model", T, |r| {
        r.is_turn() && r.prompt().contains("second line")
    });
    assert!(
        turn.prompt().contains("first line\nsecond line"),
        "the lines did not arrive together: {:?}",
        turn.prompt()
    );
    c.wait_screen("the answer", |s| s.contains("Both lines read."));
    c.wait_state("waiting_input");
    // The newline did not submit the first line on its own.
    let turns: Vec<String> = c
        .fake
        .requests()
        .iter()
        .filter(|r| r.is_turn())
        .map(|r| r.prompt())
        .collect();
    assert!(
        turns.iter().all(|p| p.trim() != "first line"),
        "the first line went alone: {turns:?}"
    );
}

#[test]
fn a_permission_answered_in_the_terminal_is_withdrawn_and_a_late_answer_is_told() {
    let command = "echo answered-at-the-terminal > made.txt";
    let c = Claude::start_supervised(bash_then_text(command, "Done: made.txt exists."));
    c.wait_ready();
    c.env.ok(&["message", &c.id, "please make a file"]);
    let id = c.wait_request();
    // A message now would answer the prompt by accident: refused.
    let out = c.env.paddock(&["message", &c.id, "hello"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("waiting for permission"), "{err}");
    c.allow_at_the_terminal();
    let made = c.sandbox.project().join("made.txt");
    wait_until(
        "made.txt written by the tool allowed at the terminal",
        T,
        || std::fs::read_to_string(&made).is_ok_and(|s| s == "answered-at-the-terminal\n"),
    );
    c.wait_state("waiting_input");
    assert!(c.approvals().is_empty(), "the request is no longer pending");
    let late = c.env.paddock(&["approve", &id]);
    assert!(!late.status.success());
    let err = String::from_utf8_lossy(&late.stderr);
    assert!(
        err.contains("no longer waiting") && err.contains("terminal"),
        "{err}"
    );
}

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

/// Must show (issue 15): started with `--no-hooks`, the real Claude Code's own status reports
/// (OSC 7501, which it sends once the holder answers its query) give the supervisor working,
/// waiting_permission with the command, and waiting_input; the reports never reach a client.
#[test]
fn claude_without_hooks_shows_its_states_from_its_own_osc_7501_reports() {
    let command = "echo hi > osc.txt";
    let script = Script::new()
        .then(
            Reply::text("I will create the file.")
                .with_tool_use(
                    "Bash",
                    json!({"command": command, "description": "Create osc.txt"}),
                )
                .when(When::UserSays("please make a file".into()))
                .gate("think"),
        )
        .then(Reply::text("Done: osc.txt exists.").when(When::ToolResult));
    let c = Claude::start_supervised_without_hooks(script);
    let from_program = |r: &Value, state: &str| r["state"] == state && r["sources"][0] == "program";
    let row = c.wait_row("idle from Claude Code's own report", |r| {
        from_program(r, "idle")
    });
    assert_eq!(row["program"]["app"], "claude-code", "{row:#}");

    c.say("please make a file");
    let row = c.wait_row("working from its own report", |r| {
        from_program(r, "working")
    });
    assert_eq!(row["program"]["state"], "working", "{row:#}");

    c.fake.open_gate("think");
    // The state and the request it opens arrive as two updates, a moment apart.
    let row = c.wait_row(
        "waiting_permission from its own report, with its request open",
        |r| from_program(r, "waiting_permission") && !r["permission"].is_null(),
    );
    assert_eq!(row["tool"], "Bash", "{row:#}");
    assert_eq!(row["permission"]["input"]["command"], command, "{row:#}");
    assert_eq!(row["program"]["kind"], "permission", "{row:#}");
    assert!(
        row["program"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(command)),
        "{row:#}"
    );
    let shown = c.env.ok(&["ls"]);
    assert!(
        shown.contains(command),
        "`paddock ls` shows the command:\n{shown}"
    );
    let osc = c.sandbox.project().join("osc.txt");
    assert!(!osc.exists(), "the tool ran before anyone allowed it");

    // Allowed in the terminal, as its owner would: the report that it works again withdraws
    // the request, and the end of the turn is waiting_input.
    c.allow_at_the_terminal();
    wait_until("osc.txt written by the real Bash tool", T, || {
        std::fs::read_to_string(&osc).is_ok_and(|s| s == "hi\n")
    });
    let row = c.wait_row("waiting_input from its own report", |r| {
        from_program(r, "waiting_input")
    });
    assert!(row["permission"].is_null(), "{row:#}");
    assert!(c.approvals().is_empty(), "nothing left to answer");

    // The holder was the terminal: no client saw a query or a report.
    let raw = c.env.ok(&["logs", &c.id, "--raw"]);
    assert!(
        !raw.contains("\u{1b}]7501"),
        "an OSC 7501 sequence reached the output"
    );
}

// --- begin: Codex through its app-server (issue 15, item 2) ---

/// Live processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

/// A Codex session that `paddock run` starts through its app-server (under a supervisor),
/// its model asking to run `cmd` outside the read-only sandbox once told "please make a file"
/// (held until the "think" gate opens), then ending its turn with "Done with made.txt.".
/// `codex` is the program given to `paddock run` (the pinned Codex, or a stand-in for it).
/// Fields drop in order: the supervisor first, then the sessions, the sandbox, the fake.
struct CodexApp {
    sup: Option<Supervisor>,
    env: Env,
    sb: CodexSandbox,
    fake: FakeApi,
    id: String,
}

impl CodexApp {
    fn start(cmd: &str) -> Self {
        let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
        Self::start_as(cmd, &codex.display().to_string())
    }

    fn start_as(cmd: &str, codex: &str) -> Self {
        let script = Script::new()
            .then(
                Reply::tool_use(
                    "exec_command",
                    json!({"cmd": cmd, "sandbox_permissions": "require_escalated",
                           "justification": "Write made.txt in the project?"}),
                )
                .gate("think")
                .when(When::UserSays("please make a file".into())),
            )
            .then(Reply::text("Done with made.txt.").when(When::ToolResult));
        Self::launch(script, codex, &[])
    }

    /// `codex` (with `extra` arguments) through its app-server, its model following `script`.
    fn launch(script: Script, codex: &str, extra: &[&str]) -> Self {
        let fake = FakeApi::start(script).expect("fake API");
        let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
        let env = Env::new();
        let sup = Some(env.up());
        let mut run = env.cmd();
        sb.apply(&mut run);
        let out = run
            .env("PADDOCK_AGENTS__CODEX_APP_SERVER", "true")
            .args([
                "run", "--name", "codex", "--cols", "120", "--rows", "40", "--", codex,
            ])
            .args([
                "-c",
                "approval_policy=on-request",
                "-c",
                "sandbox_mode=read-only",
            ])
            .args(extra)
            .output()
            .expect("paddock run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let app = Self {
            sup,
            env,
            sb,
            fake,
            id,
        };
        app.env.wait_screen(&app.id, "Codex's prompt", T, |s| {
            s.contains("gpt-fake") && s.contains("? for shortcuts")
        });
        app.wait_row("recognised as Codex", |r| r["agent"] == "codex");
        app
    }

    /// The session's app-server socket (a symlink to Codex's own).
    fn socket(&self) -> std::path::PathBuf {
        self.env.dir().join(format!("{}.codex-app-server", self.id))
    }

    fn made(&self) -> std::path::PathBuf {
        self.sb.project().join("made.txt")
    }

    fn wait_row(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.env.wait_row(&self.id, what, T, pred)
    }

    /// Gives the task; returns once the model has it (and thinks until the gate opens).
    fn say(&self) {
        self.env.ok(&["message", "codex", "please make a file"]);
        self.fake.wait_for("the turn's request", T, |r| {
            r.prompt().contains("please make a file")
        });
    }

    /// Lets the model ask for the command; returns the one pending request once the session
    /// waits for permission with it.
    fn ask(&self) -> Value {
        self.fake.open_gate("think");
        self.wait_row("waiting_permission", |r| {
            r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
        });
        self.pending()
    }

    /// The one pending permission request.
    fn pending(&self) -> Value {
        let pending: Vec<Value> =
            serde_json::from_str(&self.env.ok(&["approvals", "--json"])).expect("approvals JSON");
        assert_eq!(pending.len(), 1, "{pending:#?}");
        pending.into_iter().next().expect("one")
    }

    /// Asserts a request comes from the protocol, not the screen: answered over Paddock's
    /// own channel, with the command exactly as the model wrote it and Codex's reason.
    fn assert_from_the_protocol(&self, req: &Value, cmd: &str) {
        assert_eq!(req["channel"], "hook", "{req:#}");
        assert_eq!(req["session"], self.id.as_str(), "{req:#}");
        assert_eq!(req["tool"], "exec_command", "{req:#}");
        assert_eq!(req["input"]["command"], cmd, "{req:#}");
        assert_eq!(
            req["input"]["reason"], "Write made.txt in the project?",
            "{req:#}"
        );
        assert!(
            !self.made().exists(),
            "the command ran before it was decided"
        );
    }

    /// The TUI moved on (its dialog closed, the answer shown) and the protocol says the turn
    /// ended.
    fn assert_turn_ended(&self) {
        let shown = self.env.wait_screen(&self.id, "the answer", T, |s| {
            s.contains("Done with made.txt.")
        });
        assert!(
            !shown.contains("Would you like to run the following command?"),
            "{shown}"
        );
        self.wait_row("waiting_input from the protocol", |r| {
            r["state"] == "waiting_input" && r["sources"][0] == "hooks"
        });
    }
}

#[test]
fn codex_through_its_app_server_works_waits_for_permission_from_the_protocol_and_takes_paddock_approve(
) {
    let cmd = "echo approved-through-the-protocol > made.txt";
    let app = CodexApp::start(cmd);
    let socket = app.socket();
    assert!(
        socket.exists(),
        "the TUI runs without the session's app-server"
    );
    app.say();
    // Codex's notify reports only ends of turns: `working` from hooks is the protocol's.
    app.wait_row("working (from the protocol) while the model thinks", |r| {
        r["state"] == "working" && r["sources"][0] == "hooks"
    });
    let req = app.ask();
    app.assert_from_the_protocol(&req, cmd);
    let row = app.wait_row("waiting_permission", |_| true);
    assert_eq!(row["permission"]["id"], req["id"], "{row:#}");
    app.env.ok(&["approve", req["id"].as_str().expect("id")]);
    wait_until("made.txt written by the approved command", T, || {
        std::fs::read_to_string(app.made()).is_ok_and(|s| s == "approved-through-the-protocol\n")
    });
    let result = app.fake.wait_for("the approved command's output", T, |r| {
        r.ends_with_tool_result()
    });
    assert!(
        result.tool_results()[0].text.contains("exited with code 0"),
        "{:?}",
        result.tool_results()
    );
    app.assert_turn_ended();
    // The app-server lives and ends with the session: nothing lingers.
    let env = &app.env;
    let id = app.id.as_str();
    let needle = format!("{id}.codex-app-server");
    assert!(
        !processes_with(&needle).is_empty(),
        "no app-server process runs for the session"
    );
    let real = std::fs::read_link(&socket).expect("the socket is Codex's symlink");
    env.ok(&["kill", id]);
    wait_until("the session's app-server processes to end", T, || {
        processes_with(&needle).is_empty()
    });
    // Killed, the server may leave its socket under /tmp: the session's removal takes it
    // (the holder's own, or `paddock rm`'s when the holder still shows the exit).
    let _ = env.paddock(&["rm", id]);
    wait_until("Codex's socket file removed with the session", T, || {
        !real.exists() && !socket.exists()
    });
}

#[test]
fn codex_through_its_app_server_denied_by_paddock_does_not_run_the_command_and_tells_the_model() {
    let cmd = "echo denied-through-the-protocol > made.txt";
    let app = CodexApp::start(cmd);
    app.say();
    let req = app.ask();
    app.assert_from_the_protocol(&req, cmd);
    let out = app.env.ok(&["deny", req["id"].as_str().expect("id")]);
    assert!(out.starts_with("denied "), "{out}");
    // Codex tells the model the command was declined, and the model ends its turn.
    let result = app.fake.wait_for("the declined command's output", T, |r| {
        r.ends_with_tool_result()
    });
    let told = &result.tool_results()[0].text;
    assert!(
        told.contains("rejected") && !told.contains("exited with code"),
        "{told}"
    );
    app.assert_turn_ended();
    assert!(!app.made().exists(), "the denied command ran");
    let pending: Vec<Value> =
        serde_json::from_str(&app.env.ok(&["approvals", "--json"])).expect("JSON");
    assert!(pending.is_empty(), "{pending:#?}");
}

#[test]
fn codex_through_its_app_server_is_followed_again_after_the_supervisor_restarts_and_its_approval_offered_again(
) {
    let cmd = "echo approved-after-a-restart > made.txt";
    let mut app = CodexApp::start(cmd);
    app.say();
    let first = app.ask();
    app.assert_from_the_protocol(&first, cmd);
    // The supervisor dies; the session (and Codex's app-server in its holder) lives on.
    app.sup.take().expect("the supervisor").kill9();
    // Until the new supervisor reaches the app-server, it reads the approval from Codex's
    // status report and screen, as a request answered in the terminal (the socket is kept
    // from it for that long here; connecting may also take a moment).
    let socket = app.socket();
    let aside = socket.with_extension("aside");
    std::fs::rename(&socket, &aside).expect("move the socket aside");
    app.sup = Some(app.env.up());
    app.wait_row("waiting_permission read from the terminal", |r| {
        r["state"] == "waiting_permission" && r["permission"]["channel"] == "terminal"
    });
    std::fs::rename(&aside, &socket).expect("put the socket back");
    // The new supervisor follows the app-server again: the pending approval is replayed
    // to it, and offered again over the protocol, replacing the guess.
    app.wait_row("waiting_permission again, from the protocol", |r| {
        r["state"] == "waiting_permission"
            && r["sources"][0] == "hooks"
            && !r["permission"]["id"].is_null()
    });
    let again = app.pending();
    app.assert_from_the_protocol(&again, cmd);
    app.env.ok(&["approve", again["id"].as_str().expect("id")]);
    wait_until(
        "made.txt written by the command approved after the restart",
        T,
        || std::fs::read_to_string(app.made()).is_ok_and(|s| s == "approved-after-a-restart\n"),
    );
    app.assert_turn_ended();
}

#[test]
fn codex_whose_app_server_cannot_start_runs_plain_says_why_and_is_read_as_before() {
    // A Codex that refuses `app-server` (as one older than the subcommand would), otherwise
    // the pinned one.
    let real = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let bin = tempfile::tempdir().expect("temp dir");
    let stand_in = bin.path().join("codex");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\nif [ \"$1\" = app-server ]; then\n  echo \"error: unrecognized subcommand 'app-server'\" >&2\n  exit 2\nfi\nexec '{}' \"$@\"\n",
            real.display()
        ),
    )
    .expect("write the stand-in");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let cmd = "echo approved-in-the-terminal > made.txt";
    let app = CodexApp::start_as(cmd, &stand_in.display().to_string());
    // The terminal says why, and Codex runs without a server.
    let said = app.env.ok(&["logs", "--raw", &app.id]);
    assert!(
        said.contains("unrecognized subcommand 'app-server'")
            && said.contains("Codex's app-server did not start")
            && said.contains("running Codex without it"),
        "{said}"
    );
    assert!(!app.socket().exists(), "a socket without a server");
    assert!(
        processes_with(&format!("{}.codex-app-server", app.id)).is_empty(),
        "an app-server runs for the session"
    );
    // Its state comes from today's path (Codex's own status reports and its screen, not
    // the protocol): the approval waits in the terminal, and is answered there.
    app.say();
    app.fake.open_gate("think");
    let row = app.wait_row("waiting_permission", |r| {
        r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
    });
    let sources: Vec<&str> = row["sources"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        !sources.contains(&"hooks")
            && (sources.contains(&"program") || sources.contains(&"screen")),
        "{row:#}"
    );
    assert_eq!(app.pending()["channel"], "terminal", "{row:#}");
    let made = app.made();
    wait_until(
        "made.txt written by the command approved in the terminal",
        T,
        || {
            if std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-in-the-terminal\n") {
                return true;
            }
            // A key landing while the dialog is drawn can be lost: press it again while asked.
            if app
                .env
                .screen(&app.id)
                .contains("Would you like to run the following command?")
            {
                app.env.ok(&["send", &app.id, "y"]);
                std::thread::sleep(Duration::from_millis(500));
            }
            false
        },
    );
    app.env.wait_screen(&app.id, "the answer", T, |s| {
        s.contains("Done with made.txt.")
    });
    app.wait_row("waiting_input", |r| r["state"] == "waiting_input");
}

#[test]
fn codex_through_its_app_server_asks_its_question_in_paddock_and_takes_the_answer() {
    // Codex's `request_user_input` tool (in its default mode behind a feature flag).
    let question = json!({"questions": [{"id": "colour", "header": "Colour",
        "question": "Which colour should made.txt say?",
        "options": [{"label": "Red (Recommended)", "description": "Warm"},
                    {"label": "Blue", "description": "Calm"}]}]});
    let script = Script::new()
        .then(
            Reply::tool_use("request_user_input", question)
                .when(When::UserSays("please make a file".into())),
        )
        .then(Reply::text("Done with made.txt.").when(When::ToolResult));
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let app = CodexApp::launch(
        script,
        &codex.display().to_string(),
        &["--enable", "default_mode_request_user_input"],
    );
    app.say();
    let row = app.wait_row("waiting for the owner's answer", |r| {
        r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
    });
    let req = app.pending();
    assert_eq!(req["channel"], "hook", "{req:#}");
    assert_eq!(row["permission"]["id"], req["id"], "{row:#}");
    let q = &req["questions"][0];
    assert_eq!(
        q["question"], "Which colour should made.txt say?",
        "{req:#}"
    );
    assert_eq!(q["header"], "Colour", "{req:#}");
    assert_eq!(q["options"][1]["label"], "Blue", "{req:#}");
    app.env.ok(&[
        "approve",
        req["id"].as_str().expect("id"),
        "--answer",
        "Blue",
    ]);
    // The model gets the answer as the tool's output, and the TUI moves on.
    let result = app
        .fake
        .wait_for("the question's answer", T, |r| r.ends_with_tool_result());
    let told = &result.tool_results()[0].text;
    assert!(told.contains("Blue") && told.contains("colour"), "{told}");
    app.assert_turn_ended();
}

#[test]
fn codex_through_its_app_server_asks_for_more_permissions_in_paddock_and_is_granted_them() {
    // Codex's `request_permissions` tool (behind a feature flag in 0.169.0).
    let ask = json!({"reason": "Fetch the crate index",
        "permissions": {"network": {"enabled": true}}});
    let script = Script::new()
        .then(
            Reply::tool_use("request_permissions", ask)
                .when(When::UserSays("please make a file".into())),
        )
        .then(Reply::text("Done with made.txt.").when(When::ToolResult));
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let app = CodexApp::launch(
        script,
        &codex.display().to_string(),
        &["--enable", "request_permissions_tool"],
    );
    app.say();
    app.wait_row("waiting for permission", |r| {
        r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
    });
    let req = app.pending();
    assert_eq!(req["channel"], "hook", "{req:#}");
    assert_eq!(req["tool"], "permissions", "{req:#}");
    assert_eq!(req["input"]["reason"], "Fetch the crate index", "{req:#}");
    assert_eq!(
        req["input"]["permissions"]["network"]["enabled"], true,
        "{req:#}"
    );
    app.env.ok(&["approve", req["id"].as_str().expect("id")]);
    let result = app
        .fake
        .wait_for("the grant", T, |r| r.ends_with_tool_result());
    let told = &result.tool_results()[0].text;
    assert!(told.contains("network"), "{told}");
    app.assert_turn_ended();
}

#[test]
fn codex_through_its_app_server_asks_before_an_mcp_tool_in_paddock_and_a_denial_tells_the_model() {
    // Codex asks (an MCP elicitation) before a tool of an MCP server runs: here Paddock's own,
    // which every session Paddock starts has.
    let call = |n: &str| {
        Reply::tool_use(
            "mcp__paddock::notify_owner",
            json!({"title": "From Codex", "message": format!("hello owner {n}")}),
        )
    };
    let script = Script::new()
        .then(call("one").when(When::UserSays("please make a file".into())))
        .then(call("two").when(When::ToolResult))
        .then(Reply::text("Done with made.txt.").when(When::ToolResult));
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let app = CodexApp::launch(script, &codex.display().to_string(), &[]);
    app.say();
    let asked = |n: &str| {
        app.wait_row("waiting for permission to run the MCP tool", |r| {
            r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
        });
        let req = app.pending();
        assert_eq!(req["channel"], "hook", "{req:#}");
        assert_eq!(req["tool"], "mcp", "{req:#}");
        assert_eq!(req["input"]["server"], "paddock", "{req:#}");
        assert_eq!(req["input"]["tool"], "notify_owner", "{req:#}");
        assert_eq!(
            req["input"]["arguments"]["message"],
            format!("hello owner {n}"),
            "{req:#}"
        );
        req["id"].as_str().expect("id").to_owned()
    };
    let first = asked("one");
    app.env.ok(&["approve", &first]);
    let result = app
        .fake
        .wait_for("the tool's result", T, |r| r.ends_with_tool_result());
    // Approved, the tool ran: Paddock's own MCP server sent the notification.
    let ran = &result.tool_results()[0].text;
    assert!(
        ran.contains("sent to the owner's notification channels"),
        "{ran}"
    );
    let second = asked("two");
    app.env.ok(&["deny", &second]);
    let result = app.fake.wait_for("the declined tool's result", T, |r| {
        r.ends_with_tool_result() && r.tool_results().len() == 2
    });
    let told = &result.tool_results()[1].text;
    assert!(told.contains("user rejected MCP tool call"), "{told}");
    app.assert_turn_ended();
}

/// A stand-in app-server on `socket` (WebSocket over the unix socket, as Codex's): answers
/// `initialize` and `thread/loaded/list`, then sends each of `asks` (JSON-RPC requests), the
/// next once the previous one's reply came; the replies are passed on.
fn app_server_asking(
    socket: std::path::PathBuf,
    asks: Vec<Value>,
) -> std::sync::mpsc::Receiver<Value> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (tx, rx) = std::sync::mpsc::channel();
    let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind the socket");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::UnixListener::from_std(listener).expect("listener");
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let mut asks = asks.into_iter();
            while let Some(Ok(frame)) = ws.next().await {
                let Message::Text(text) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                let out = match v["method"].as_str() {
                    Some("initialize") => {
                        json!({"id": v["id"], "result": {"userAgent": "stand-in"}})
                    }
                    Some("thread/loaded/list") => {
                        let list = json!({"id": v["id"], "result": {"data": []}});
                        if ws.send(Message::text(list.to_string())).await.is_err() {
                            return;
                        }
                        match asks.next() {
                            Some(ask) => ask,
                            None => continue,
                        }
                    }
                    Some(_) => continue,
                    None => {
                        if tx.send(v).is_err() {
                            return;
                        }
                        match asks.next() {
                            Some(ask) => ask,
                            None => continue,
                        }
                    }
                };
                if ws.send(Message::text(out.to_string())).await.is_err() {
                    return;
                }
            }
        });
    });
    rx
}

#[test]
fn codex_v1_approvals_from_an_app_server_are_answered_from_paddock_in_their_own_words() {
    // The pinned Codex has no v1 conversation API left, so it never sends these offline:
    // schema-valid ones (`codex app-server generate-json-schema`) from a stand-in server on
    // a real socket, followed by the real supervisor.
    let env = Env::new();
    let _sup = env.up();
    let id = env.run(&["--name", "stand-in"], &["sleep", "300"]);
    env.wait_row(&id, "known to the supervisor", T, |_| true);
    let replies = app_server_asking(
        env.dir().join(format!("{id}.codex-app-server")),
        vec![
            json!({"id": "v1-exec", "method": "execCommandApproval", "params": {
                "conversationId": "c1", "callId": "call_1", "cwd": "/p", "parsedCmd": [],
                "command": ["/bin/bash", "-lc", "rm -rf build"], "reason": "Clean the build?"}}),
            json!({"id": 7, "method": "applyPatchApproval", "params": {
                "conversationId": "c1", "callId": "call_2", "grantRoot": null, "reason": null,
                "fileChanges": {"/p/src/a.rs": {"type": "add", "content": "fn a() {}\n"}}}}),
        ],
    );
    let pending = |tool: &str| {
        let mut req = Value::Null;
        wait_until(&format!("the {tool} request in Paddock"), T, || {
            let all: Vec<Value> =
                serde_json::from_str(&env.ok(&["approvals", "--json"])).expect("JSON");
            req = all.into_iter().next().unwrap_or(Value::Null);
            req["tool"] == tool
        });
        assert_eq!(req["channel"], "hook", "{req:#}");
        assert_eq!(req["session"], id.as_str(), "{req:#}");
        req
    };
    let reply = || {
        replies
            .recv_timeout(T)
            .expect("the supervisor's reply to the stand-in server")
    };
    let exec = pending("exec_command");
    assert_eq!(exec["input"]["command"], "rm -rf build", "{exec:#}");
    assert_eq!(exec["input"]["reason"], "Clean the build?", "{exec:#}");
    env.wait_row(&id, "waiting_permission", T, |r| {
        r["state"] == "waiting_permission" && r["permission"]["id"] == exec["id"]
    });
    env.ok(&["deny", exec["id"].as_str().expect("id")]);
    assert_eq!(
        reply(),
        json!({"jsonrpc": "2.0", "id": "v1-exec", "result": {"decision": "denied"}})
    );
    let patch = pending("apply_patch");
    assert_eq!(patch["input"]["files"], json!(["/p/src/a.rs"]), "{patch:#}");
    env.ok(&["approve", patch["id"].as_str().expect("id")]);
    assert_eq!(
        reply(),
        json!({"jsonrpc": "2.0", "id": 7, "result": {"decision": "approved"}})
    );
}

#[test]
fn codex_whose_app_server_dies_under_its_terminal_ui_is_errored_with_what_to_do() {
    let app = CodexApp::start("echo never > made.txt");
    let log = app.env.dir().join("data/logs/paddock.log");
    let following = format!("following the session's Codex app-server id={}", app.id);
    wait_until(
        "the supervisor to follow the session's app-server",
        T,
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains(&following)),
    );
    // The server dies; Codex's terminal UI lives on, waiting to reconnect.
    let needle = format!("{}.codex-app-server", app.id);
    let servers: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|b| {
                let c = String::from_utf8_lossy(&b).replace('\0', " ");
                c.contains("app-server --listen") && c.contains(&needle)
            })
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!servers.is_empty(), "no app-server runs for the session");
    for pid in &servers {
        let _ = std::process::Command::new("kill")
            .args(["-9", pid])
            .status();
    }
    let row = app.wait_row("errored, saying why", |r| r["state"] == "errored");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|r| r.contains("app-server ended") && r.contains("paddock restart")),
        "{row:#}"
    );
    assert!(row["exit_code"].is_null(), "{row:#}");
    app.env
        .wait_screen(&app.id, "the UI waiting for its server", T, |s| {
            s.contains("Reconnecting to server")
        });
}
// --- end: Codex through its app-server ---
