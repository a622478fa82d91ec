//! Helpers of more than one module: the pinned Codex started under `paddock run` and approved
//! with `y`, what the model was told, and `CodexApp`, a Codex session through its app-server.

use crate::common::*;
use paddock_fakeapi::agents::{self, CodexSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, When};
use serde_json::{json, Value};
use std::time::Duration;

/// Generous: the CLIs are large programs and the machine is shared.
pub const T: Duration = Duration::from_secs(90);

/// The pinned `codex`; panics with the install hint when it is missing.
pub fn codex_bin() -> String {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    codex.display().to_string()
}

/// Codex asks before anything leaves its (read-only) sandbox.
pub const ASK_FIRST: [&str; 4] = [
    "-c",
    "approval_policy=on-request",
    "-c",
    "sandbox_mode=read-only",
];

/// `paddock run --name codex RUN_ARGS -- CODEX CODEX_ARGS` in `sb`'s sandbox (in a 120x40
/// terminal), from a shell with `vars` set; waits for Codex's prompt. The session's id.
pub fn start_codex(
    env: &Env,
    sb: &CodexSandbox,
    vars: &[(&str, &str)],
    run_args: &[&str],
    codex: &str,
    codex_args: &[&str],
) -> String {
    let mut opts = vec!["--name", "codex", "--cols", "120", "--rows", "40"];
    opts.extend_from_slice(run_args);
    let mut command = vec![codex];
    command.extend_from_slice(codex_args);
    let id = env.run_in(
        |cmd| {
            sb.apply(cmd);
            cmd.envs(vars.iter().copied());
        },
        &opts,
        &command,
    );
    // Ready once the footer names the model (the logo animation comes first).
    env.wait_screen(&id, "Codex's prompt", T, |s| {
        s.contains("gpt-fake") && s.contains("? for shortcuts")
    });
    id
}

/// Answers Codex's "run the following command?" with `y` in its terminal until `made` holds
/// `text`. A key that lands while the dialog is still being drawn can be lost, so it is
/// pressed again while the question is still on the screen (as a person would).
pub fn approve_with_y(env: &Env, id: &str, made: &std::path::Path, text: &str) {
    wait_until(
        "made.txt written by the command approved in the terminal",
        T,
        || {
            if std::fs::read_to_string(made).is_ok_and(|s| s == text) {
                return true;
            }
            if env
                .screen(id)
                .contains("Would you like to run the following command?")
            {
                env.ok(&["send", id, "y"]);
                std::thread::sleep(Duration::from_millis(500));
            }
            false
        },
    );
}

/// What the model was told by tool result `nth` of its turn, once a request carries it.
pub fn told(fake: &FakeApi, what: &str, nth: usize) -> String {
    let result = fake.wait_for(what, T, |r| {
        r.ends_with_tool_result() && r.tool_results().len() > nth
    });
    result.tool_results()[nth].text.clone()
}

/// The command the model asked for ran, and it was told so.
pub fn assert_ran(fake: &FakeApi, what: &str) {
    let told = told(fake, what, 0);
    assert!(told.contains("exited with code 0"), "{told}");
}

// --- begin: Codex through its app-server (issue 15, item 2) ---

/// A Codex session that `paddock run` starts through its app-server (under a supervisor),
/// its model asking to run `cmd` outside the read-only sandbox once told "please make a file"
/// (held until the "think" gate opens), then ending its turn with "Done with made.txt.".
/// `codex` is the program given to `paddock run` (the pinned Codex, or a stand-in for it).
/// Fields drop in order: the supervisor first, then the sessions, the sandbox, the fake.
pub struct CodexApp {
    pub sup: Option<Supervisor>,
    pub env: Env,
    pub sb: CodexSandbox,
    pub fake: FakeApi,
    pub id: String,
}

impl CodexApp {
    pub fn start(cmd: &str) -> Self {
        Self::start_as(cmd, &codex_bin())
    }

    pub fn start_as(cmd: &str, codex: &str) -> Self {
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
    pub fn launch(script: Script, codex: &str, extra: &[&str]) -> Self {
        let fake = FakeApi::start(script).expect("fake API");
        let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
        let env = Env::new();
        let sup = Some(env.up());
        let mut codex_args = ASK_FIRST.to_vec();
        codex_args.extend_from_slice(extra);
        let vars = [("PADDOCK_AGENTS__CODEX_APP_SERVER", "true")];
        let id = start_codex(&env, &sb, &vars, &[], codex, &codex_args);
        let app = Self {
            sup,
            env,
            sb,
            fake,
            id,
        };
        app.wait_row("recognised as Codex", |r| r["agent"] == "codex");
        app
    }

    /// The session's app-server socket (a symlink to Codex's own).
    pub fn socket(&self) -> std::path::PathBuf {
        self.env.dir().join(format!("{}.codex-app-server", self.id))
    }

    pub fn made(&self) -> std::path::PathBuf {
        self.sb.project().join("made.txt")
    }

    pub fn wait_row(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.env.wait_row(&self.id, what, T, pred)
    }

    /// Gives the task; returns once the model has it (and thinks until the gate opens).
    pub fn say(&self) {
        self.env.ok(&["message", "codex", "please make a file"]);
        self.fake.wait_for("the turn's request", T, |r| {
            r.prompt().contains("please make a file")
        });
    }

    /// Lets the model ask for the command; returns the one pending request once the session
    /// waits for permission with it.
    pub fn ask(&self) -> Value {
        self.fake.open_gate("think");
        self.asked("waiting_permission").1
    }

    /// Once the session waits for `what` with a request: its row, and the one pending
    /// request.
    pub fn asked(&self, what: &str) -> (Value, Value) {
        let row = self.wait_row(what, |r| {
            r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
        });
        (row, self.pending())
    }

    /// Runs `codex` through its app-server with `extra` arguments (turning a feature on), its
    /// model first answering "please make a file" with `first`, then `then` after each tool
    /// result, then "Done with made.txt.".
    pub fn with_tools(first: Reply, then: &[Reply], extra: &[&str]) -> Self {
        let mut script =
            Script::new().then(first.when(When::UserSays("please make a file".into())));
        for r in then {
            script = script.then(r.clone().when(When::ToolResult));
        }
        let script = script.then(Reply::text("Done with made.txt.").when(When::ToolResult));
        Self::launch(script, &codex_bin(), extra)
    }

    /// The one pending permission request.
    pub fn pending(&self) -> Value {
        let pending: Vec<Value> = self.env.approvals();
        assert_eq!(pending.len(), 1, "{pending:#?}");
        pending.into_iter().next().expect("one")
    }

    /// Asserts a request comes from the protocol, not the screen: answered over Paddock's
    /// own channel, with the command exactly as the model wrote it and Codex's reason.
    pub fn assert_from_the_protocol(&self, req: &Value, cmd: &str) {
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
    pub fn assert_turn_ended(&self) {
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

// --- end: Codex through its app-server ---
