//! The real Claude Code under `paddock run`, for the tests that drive it (agents_real/,
//! claude_bg.rs, mcp_claude.rs, mcp_wiring.rs): the pinned CLI in a [`ClaudeSandbox`],
//! offline against `paddock-fakeapi`, and [`Claude`], one such session with every hook
//! recorded. Included as `#[path = "common/claude.rs"] mod claude;` (`../common/claude.rs`
//! from a test's main.rs). A missing CLI fails
//! the test (never skips it) with the message saying how to install it.

#![allow(dead_code)]

use crate::common::{wait_until, Env, Supervisor};
use paddock_fakeapi::agents::ClaudeSandbox;
use paddock_fakeapi::claude_session::{prompt_ready, CLAUDE_READY};
use paddock_fakeapi::{FakeApi, Recorded, Reply, Script, Usage, When};
use serde_json::{json, Value};
use std::time::Duration;

/// Generous: the CLI is a large program and the machine is shared.
const T: Duration = Duration::from_secs(90);

/// The size every interactive Claude Code session of the tests gets (its TUI lays out the
/// footer the tests wait for within it).
pub const SIZE: [&str; 4] = ["--cols", "120", "--rows", "40"];

/// `claude` in `sandbox`, as a user would type it; panics with the install hint when the
/// pinned CLI is missing.
pub fn claude(sandbox: &ClaudeSandbox) -> std::process::Command {
    sandbox.claude_command().unwrap_or_else(|e| panic!("{e}"))
}

/// `paddock run RUN_ARGS -- claude CLAUDE_ARGS` in `sandbox`: the new session's id. Asserts
/// that `paddock run` succeeded.
pub fn run_claude(
    env: &Env,
    sandbox: &ClaudeSandbox,
    run_args: &[&str],
    claude_args: &[&str],
) -> String {
    run_claude_with(env, sandbox, &[], run_args, claude_args)
}

/// [`run_claude`] from a shell that also has `vars` set (they reach the session).
pub fn run_claude_with(
    env: &Env,
    sandbox: &ClaudeSandbox,
    vars: &[(&str, &str)],
    run_args: &[&str],
    claude_args: &[&str],
) -> String {
    let argv = sandbox
        .claude_argv(claude_args)
        .unwrap_or_else(|e| panic!("{e}"));
    env.run_in(
        |cmd| {
            sandbox.apply(cmd);
            cmd.envs(vars.iter().copied());
        },
        run_args,
        &argv,
    )
}

/// Waits until the session's screen shows Claude Code ready at its prompt; the screen.
pub fn wait_prompt(env: &Env, id: &str, timeout: Duration) -> String {
    env.wait_screen(
        id,
        &format!("Claude Code's prompt ({CLAUDE_READY:?})"),
        timeout,
        prompt_ready,
    )
}

/// An interactive session: [`run_claude`] with the terminal [`SIZE`], then [`wait_prompt`];
/// its id.
pub fn start_claude(
    env: &Env,
    sandbox: &ClaudeSandbox,
    run_args: &[&str],
    claude_args: &[&str],
    timeout: Duration,
) -> String {
    start_claude_with(env, sandbox, &[], run_args, claude_args, timeout)
}

/// [`start_claude`] from a shell that also has `vars` set.
pub fn start_claude_with(
    env: &Env,
    sandbox: &ClaudeSandbox,
    vars: &[(&str, &str)],
    run_args: &[&str],
    claude_args: &[&str],
    timeout: Duration,
) -> String {
    let mut args = SIZE.to_vec();
    args.extend_from_slice(run_args);
    let id = run_claude_with(env, sandbox, vars, &args, claude_args);
    wait_prompt(env, &id, timeout);
    id
}

/// A real `claude` in manual permission mode under `paddock run`, in a sandbox talking to a
/// fake API, every hook recorded; waits until its prompt is ready.
pub struct Claude {
    pub env: Env,
    pub fake: FakeApi,
    pub sandbox: ClaudeSandbox,
    pub id: String,
    /// The supervisor, for the flows that go through it (dropped last).
    _sup: Option<Supervisor>,
}

impl Claude {
    pub fn start(script: Script) -> Self {
        Self::start_with(script, false, false, &[], &[])
    }

    /// With `paddock up` running first, so the hooks Paddock injects reach it.
    pub fn start_supervised(script: Script) -> Self {
        Self::start_with(script, true, false, &[], &[])
    }

    /// With the task-list tools offered to the model.
    pub fn start_with_task_tools(script: Script) -> Self {
        Self::start_with(script, false, true, &[], &[])
    }

    /// `paddock run` from a shell that has `inherited` set, with `run_args` for `paddock run`.
    pub fn start_from_shell_with(
        script: Script,
        inherited: &[(&str, &str)],
        run_args: &[&str],
    ) -> Self {
        Self::start_as(script, false, false, false, inherited, run_args)
    }

    /// With `paddock up` running and `paddock run --no-hooks`: the supervisor hears nothing
    /// from Paddock's hooks, only what the terminal carries.
    pub fn start_supervised_without_hooks(script: Script) -> Self {
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
        let id = start_claude_with(
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
    pub fn wait_row(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.env.wait_row(&self.id, what, T, pred)
    }

    pub fn wait_state(&self, state: &str) -> Value {
        self.wait_row(&format!("state {state}"), |r| r["state"] == state)
    }

    /// Waits for the pending permission request and returns its id. The screen can show
    /// the prompt (and the session be `waiting_permission`) a moment before Claude Code's
    /// PermissionRequest hook reaches the supervisor and opens the request.
    pub fn wait_request(&self) -> String {
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
    pub fn wait_ready(&self) -> Value {
        self.wait_row("idle from Claude Code's hooks", |r| {
            r["state"] == "idle" && r["sources"][0] == "hooks"
        })
    }

    /// `paddock approvals --json`.
    pub fn approvals(&self) -> Vec<Value> {
        self.env.approvals()
    }

    /// Types `text` and Enter, as a user would.
    pub fn say(&self, text: &str) {
        self.env.ok(&["send", &self.id, "--enter", text]);
    }

    pub fn wait_screen(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.env.wait_screen(&self.id, what, T, pred)
    }

    /// Enter at Claude Code's permission prompt picks "1. Yes", as its owner at the terminal
    /// would. A key landing as the dialog is drawn can be lost (docs/agents-offline.md), so
    /// Enter is pressed again while the prompt is still there, as a person would.
    pub fn allow_at_the_terminal(&self) {
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

    /// The id of the Bash call the model made, from Claude Code's PreToolUse hook.
    pub fn bash_call_id(&self) -> String {
        let pre = self.wait_hook("PreToolUse", |p| p["tool_name"] == "Bash");
        pre["tool_use_id"]
            .as_str()
            .expect("PreToolUse carries tool_use_id")
            .to_owned()
    }

    /// Waits for a hook payload of `event` that satisfies `pred`.
    pub fn wait_hook(&self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
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
pub fn tool_result_turn(fake: &FakeApi, id: &str) -> Recorded {
    fake.wait_for(&format!("the result of tool call {id}"), T, |r| {
        r.tool_results().iter().any(|t| t.id == id)
    })
}

/// The script of a turn that wants to run `command` in Bash, then says `done` once it has the
/// tool's result.
pub fn bash_then_text(command: &str, done: &str) -> Script {
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
pub fn wait_for_permission_prompt(c: &Claude, command: &str) -> String {
    let request = c.wait_hook("PermissionRequest", |p| {
        p["tool_name"] == "Bash" && p["tool_input"]["command"] == command
    });
    assert!(request["session_id"].is_string(), "{request}");
    c.wait_screen("the permission prompt", |s| {
        s.contains("Do you want to proceed?") && s.contains(command)
    });
    c.bash_call_id()
}
