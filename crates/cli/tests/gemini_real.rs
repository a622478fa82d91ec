//! The real Gemini CLI (pinned in `scripts/agent-versions.env`, installed by
//! `scripts/install-agents.sh`) driven offline against `paddock-fakeapi`'s Gemini API in a
//! `paddock run` session: it answers a prompt (working, then waiting_input) and asks before a
//! shell command (waiting_permission, the box on its screen), its hooks (in its settings.json,
//! calling `paddock hook --agent gemini` as an owner's would) giving the session's state; the
//! request is in `paddock approvals`, and `paddock approve` / `deny` answer its box; its
//! conversation is read from the chat file it writes. These tests fail (they
//! never skip) when the CLI is not installed; the message says how to install it.

mod common;
#[path = "common/web.rs"]
mod web;

use common::*;
use paddock_fakeapi::agents::{self, GeminiSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, When};
use serde_json::{json, Value};
use std::time::Duration;

/// Generous: the CLI is a large Node program and the machine is shared.
const T: Duration = Duration::from_secs(90);

/// Gemini CLI's input box, drawn once it is ready for typing.
const READY: &str = "Type your message";

/// Gemini CLI's routing side request (`:generateContent`, no tools) wants JSON back and
/// retries, with growing pauses, on anything else; `{}` makes it keep its default model.
fn script() -> Script {
    Script::new().fallback(Reply::text("{}").times(0))
}

/// A real `gemini` under `paddock run` with a supervisor, in a sandbox talking to `fake`,
/// its hooks going to the supervisor through `paddock hook --agent gemini`.
struct Gemini {
    env: Env,
    _sup: Supervisor,
    sandbox: GeminiSandbox,
    id: String,
}

impl Gemini {
    fn start(fake: &FakeApi) -> Self {
        let gemini = agents::gemini_bin().unwrap_or_else(|e| panic!("{e}"));
        let hook = format!("'{PADDOCK}' hook --agent gemini");
        let sandbox = GeminiSandbox::with_hook(&fake.url(), Some(&hook)).expect("sandbox");
        let env = Env::new();
        let sup = env.up();
        let id = env.run_in(
            |cmd| sandbox.apply(cmd),
            &["--name", "gemini", "--cols", "120", "--rows", "40"],
            &[gemini],
        );
        let g = Self {
            env,
            _sup: sup,
            sandbox,
            id,
        };
        g.env
            .wait_screen(&g.id, "Gemini CLI's input box", T, |s| s.contains(READY));
        g
    }

    /// This session's `ls --json` row once `pred` holds for it.
    fn wait_row(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.env.wait_row(&self.id, what, T, pred)
    }

    fn wait_state(&self, state: &str) -> Value {
        self.wait_row(&format!("the session to be {state}"), |r| {
            r["state"] == state
        })
    }

    /// Types `text` and presses Enter until the CLI took it (its BeforeAgent hook fired):
    /// an Enter that lands with the typed text can be read as part of a paste.
    fn submit(&self, text: &str) {
        let before = self.sandbox.hooks_of("BeforeAgent").len();
        self.env.ok(&["send", &self.id, text]);
        self.env
            .wait_screen(&self.id, "the typed prompt", T, |s| s.contains(text));
        wait_until("the CLI to take the prompt", T, || {
            if self.sandbox.hooks_of("BeforeAgent").len() > before {
                return true;
            }
            if self.env.screen(&self.id).contains(text) {
                self.env.ok(&["send", &self.id, "--enter", ""]);
            }
            std::thread::sleep(Duration::from_millis(700));
            self.sandbox.hooks_of("BeforeAgent").len() > before
        });
    }
}

fn sources(row: &Value) -> Vec<String> {
    row["sources"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn gemini_through_paddock_answers_a_prompt_working_then_waiting_input_from_its_hooks() {
    let fake = FakeApi::start(
        script().then(
            Reply::text("Hello from the fake Gemini API.")
                .when(When::UserSays("say hello".into()))
                .gate("hello"),
        ),
    )
    .expect("fake API");
    let g = Gemini::start(&fake);
    g.wait_row("recognised as Gemini CLI by the supervisor", |r| {
        r["agent"] == "gemini"
    });
    g.submit("say hello");
    // The fake holds the answer: the agent is working on it.
    let turn = fake.wait_for("the prompt as a turn", T, |r| {
        r.is_turn() && r.prompt() == "say hello"
    });
    assert_eq!(turn.header("x-goog-api-key"), Some("fake-gemini-key"));
    assert!(
        turn.target.contains(":streamGenerateContent?alt=sse"),
        "{}",
        turn.target
    );
    let working = g.wait_state("working");
    assert!(
        sources(&working).iter().any(|s| s == "hooks"),
        "the state comes from the hooks: {working}"
    );
    fake.open_gate("hello");
    g.env.wait_screen(&g.id, "the fake's answer", T, |s| {
        s.contains("Hello from the fake Gemini API.")
    });
    let waiting = g.wait_state("waiting_input");
    assert!(sources(&waiting).iter().any(|s| s == "hooks"), "{waiting}");
    // The conversation, read from the chat file Gemini CLI wrote (its hooks name it), as
    // the UI gets it over REST: the prompt and the answer.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let page = rt.block_on(async {
        let web = web::Web::of(&g.env);
        let token = web.token(&g.env, "viewer").await;
        let url = format!("/api/v1/sessions/{}/conversation", g.id);
        let mut page = Value::Null;
        let deadline = std::time::Instant::now() + T;
        while std::time::Instant::now() < deadline {
            let r = web.call("GET", &url, Some(&token), None).await;
            if r.status == 200 && r.body["turns"][0]["items"][0]["text"].is_string() {
                page = r.body;
                break;
            }
            page = r.body;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        page
    });
    assert_eq!(page["agent"], "gemini", "{page}");
    let turns = page["turns"].as_array().expect("turns");
    assert_eq!(turns.len(), 1, "{page:#}");
    assert_eq!(turns[0]["prompt"], "say hello");
    let items = turns[0]["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page:#}");
    assert_eq!(items[0]["kind"], "text");
    assert_eq!(
        items[0]["text"], "Hello from the fake Gemini API.",
        "{page:#}"
    );
    // 0.61.0's AfterAgent `prompt_response` was seen to repeat the last streamed piece
    // ("... fake Gemini API. Gemini API."), though the screen shows the text once.
    let after = g.sandbox.hooks_of("AfterAgent");
    assert!(
        after
            .last()
            .and_then(|p| p["prompt_response"].as_str())
            .is_some_and(|r| r.starts_with("Hello from the fake Gemini API.")),
        "{after:#?}"
    );
}

#[test]
fn gemini_through_paddock_waits_for_permission_from_its_hooks_with_the_box_on_its_screen() {
    let command = "echo approved-in-gemini > made.txt";
    let fake = FakeApi::start(
        script().then(
            Reply::text("I will make the file.")
                .with_tool_use(
                    "run_shell_command",
                    json!({"command": command, "description": "Make made.txt"}),
                )
                .when(When::UserSays("please make a file".into())),
        ),
    )
    .expect("fake API");
    let g = Gemini::start(&fake);
    g.submit("please make a file");
    let row = g.wait_state("waiting_permission");
    assert!(sources(&row).iter().any(|s| s == "hooks"), "{row}");
    g.env.wait_screen(&g.id, "the confirmation box", T, |s| {
        s.contains("Allow execution of") && s.contains(command)
    });
    let made = g.sandbox.project().join("made.txt");
    assert!(!made.exists(), "the command ran before anyone allowed it");
    let notes = g.sandbox.hooks_of("Notification");
    assert!(
        notes
            .iter()
            .any(|n| n["notification_type"] == "ToolPermission"
                && n["details"]["command"] == command),
        "{notes:#?}"
    );
}

// --- begin: approve / deny through Paddock (issue 15, item 4) ---
/// A session asking to run `command` (the fake's script for "please make a file"), then
/// answering `after` once the command's result comes back (and the `more` replies).
/// Returns it with the request.
fn asking(command: &str, after: &str, more: Vec<Reply>) -> (FakeApi, Gemini, Value) {
    let mut script = script()
        .then(
            Reply::text("I will make the file.")
                .with_tool_use(
                    "run_shell_command",
                    json!({"command": command, "description": "Make made.txt"}),
                )
                .when(When::UserSays("please make a file".into())),
        )
        .then(Reply::text(after).when(When::ToolResult));
    for reply in more {
        script = script.then(reply);
    }
    let fake = FakeApi::start(script).expect("fake API");
    let g = Gemini::start(&fake);
    g.submit("please make a file");
    let row = g.wait_row("the permission request in the session's state", |r| {
        r["state"] == "waiting_permission" && r["permission"]["input"]["command"] == command
    });
    assert_eq!(row["tool"], "run_shell_command", "{row}");
    assert!(sources(&row).iter().any(|s| s == "hooks"), "{row}");
    let pending = g.env.approvals();
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!(pending[0]["session"], g.id.as_str());
    assert_eq!(pending[0]["input"]["command"], command);
    let request = pending[0].clone();
    (fake, g, request)
}

#[test]
fn gemini_approved_through_paddock_runs_the_command_and_the_model_gets_its_output() {
    let command = "echo approved-in-gemini > made.txt && cat made.txt";
    let (fake, g, request) = asking(command, "The file is made.", Vec::new());
    let made = g.sandbox.project().join("made.txt");
    assert!(!made.exists(), "the command ran before anyone allowed it");
    let id = request["id"].as_str().expect("request id");
    let out = g.env.ok(&["approve", id]);
    assert!(out.contains("allowed"), "{out}");
    wait_until("made.txt written by Gemini's shell tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "approved-in-gemini\n")
    });
    let result = fake.wait_for("the command's functionResponse", T, |r| {
        r.is_turn() && !r.tool_results().is_empty()
    });
    let results = result.tool_results();
    assert!(
        results[0].text.contains("approved-in-gemini"),
        "the model did not get the command's output: {results:?}"
    );
    g.env
        .wait_screen(&g.id, "the answer after the command", T, |s| {
            s.contains("The file is made.")
        });
    let row = g.wait_state("waiting_input");
    assert!(row["permission"].is_null(), "{row}");
    assert!(g.env.approvals().is_empty(), "nothing left to answer");
    std::process::Command::new("cp")
        .args([
            "-r",
            &g.sandbox.home().join(".gemini").display().to_string(),
            "/tmp/gemini2-sample",
        ])
        .status()
        .ok();
    // A late answer is refused and says who answered first.
    let late = g.env.paddock(&["deny", id]);
    assert!(!late.status.success());
    let err = String::from_utf8_lossy(&late.stderr);
    assert!(err.contains("already allowed by cli"), "{err}");
}

#[test]
fn gemini_denied_through_paddock_does_not_run_the_command_and_says_so() {
    let command = "echo must-not-run > made.txt";
    let (fake, g, request) = asking(command, "It ran anyway.", Vec::new());
    let id = request["id"].as_str().expect("request id");
    let out = g.env.ok(&["deny", id]);
    assert!(out.contains("denied"), "{out}");
    let row = g.wait_state("waiting_input");
    assert!(row["permission"].is_null(), "{row}");
    let shown = g
        .env
        .wait_screen(&g.id, "Gemini saying the command was cancelled", T, |s| {
            !s.contains("Allow execution of") && s.to_lowercase().contains("cancel")
        });
    assert!(!shown.contains("It ran anyway."), "{shown}");
    assert!(
        !g.sandbox.project().join("made.txt").exists(),
        "the denied command ran"
    );
    assert!(
        fake.requests().iter().all(|r| r.tool_results().is_empty()),
        "the denied command's output reached the model"
    );
    assert!(g.env.approvals().is_empty(), "nothing left to answer");
}
#[test]
fn gemini_denied_with_a_message_through_paddock_gets_the_message_as_its_next_prompt() {
    let command = "echo must-not-run > made.txt";
    let why = "not in this folder, use /tmp";
    let (fake, g, request) = asking(
        command,
        "It ran anyway.",
        vec![Reply::text("Creating it in /tmp then.").when(When::UserSays("use /tmp".into()))],
    );
    let id = request["id"].as_str().expect("request id");
    g.env.ok(&["deny", id, "--message", why]);
    fake.wait_for("the message as the next prompt", T, |r| {
        r.is_turn() && r.prompt() == why
    });
    g.env
        .wait_screen(&g.id, "the answer to the message", T, |s| {
            s.contains("Creating it in /tmp then.")
        });
    g.wait_state("waiting_input");
    assert!(
        !g.sandbox.project().join("made.txt").exists(),
        "the denied command ran"
    );
}
// --- end: approve / deny through Paddock ---

#[test]
fn gemini_version_is_the_pinned_version() {
    let gemini = agents::gemini_bin().unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(&gemini)
        .arg("--version")
        .output()
        .expect("gemini --version");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        agents::gemini_cli_version()
    );
}
