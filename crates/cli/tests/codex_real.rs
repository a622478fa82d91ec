//! The real Codex CLI, installed by `scripts/install-agents.sh`, driven offline against
//! `paddock-fakeapi`: `codex exec`, its terminal UI in a real PTY under `paddock run` (typed
//! into with `paddock send`), its rollouts and notify calls checked, and Codex through its
//! app-server (state and approvals from its protocol). These tests fail (they never skip)
//! when the CLI is not installed; the message says how to install.

mod common;

use common::*;
use paddock_fakeapi::agents::{self, CodexSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::{json, Value};
use std::time::Duration;

/// Generous: the CLIs are large programs and the machine is shared.
const T: Duration = Duration::from_secs(90);

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

/// The pinned `codex`; panics with the install hint when it is missing.
fn codex_bin() -> String {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    codex.display().to_string()
}

/// Codex asks before anything leaves its (read-only) sandbox.
const ASK_FIRST: [&str; 4] = [
    "-c",
    "approval_policy=on-request",
    "-c",
    "sandbox_mode=read-only",
];

/// `paddock run --name codex RUN_ARGS -- CODEX CODEX_ARGS` in `sb`'s sandbox (in a 120x40
/// terminal), from a shell with `vars` set; waits for Codex's prompt. The session's id.
fn start_codex(
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

/// Types `text` into Codex's box, then Enter. Text and Enter in one write would be taken as
/// a paste (Enter inserts a newline), so: type, wait for the text to show, press Enter alone.
fn type_to_codex(env: &Env, id: &str, text: &str) {
    env.ok(&["send", id, text]);
    env.wait_screen(id, "the typed prompt", T, |s| s.contains(text));
    env.ok(&["send", id, "--enter", ""]);
}

/// Answers Codex's "run the following command?" with `y` in its terminal until `made` holds
/// `text`. A key that lands while the dialog is still being drawn can be lost, so it is
/// pressed again while the question is still on the screen (as a person would).
fn approve_with_y(env: &Env, id: &str, made: &std::path::Path, text: &str) {
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
fn told(fake: &FakeApi, what: &str, nth: usize) -> String {
    let result = fake.wait_for(what, T, |r| {
        r.ends_with_tool_result() && r.tool_results().len() > nth
    });
    result.tool_results()[nth].text.clone()
}

/// The command the model asked for ran, and it was told so.
fn assert_ran(fake: &FakeApi, what: &str) {
    let told = told(fake, what, 0);
    assert!(told.contains("exited with code 0"), "{told}");
}

fn assert_codex_turn(sb: &CodexSandbox, fake: &FakeApi, cmd: &str) {
    let made = sb.project().join("made.txt");
    wait_until("made.txt written by codex's shell tool", T, || {
        std::fs::read_to_string(&made).is_ok_and(|s| s == "made-by-codex\n")
    });
    assert_ran(fake, "the shell command's output");

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
    let codex = codex_bin();
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
fn codex_interactive_under_paddock_run_runs_a_typed_turn() {
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    // --no-hooks: the CLI with the sandbox's notify program only, not Paddock's injected one.
    let id = start_codex(&env, &sb, &[], &["--no-hooks"], &codex_bin(), &[]);
    type_to_codex(&env, &id, "please make a file");
    assert_codex_turn(&sb, &fake, cmd);
    env.wait_screen(&id, "the answer", T, |s| {
        s.contains("Done, made.txt is there.")
    });
}

#[test]
fn codex_interactive_asks_before_an_escalated_command_and_y_runs_it() {
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
    let id = start_codex(&env, &sb, &[], &["--no-hooks"], &codex_bin(), &ASK_FIRST);
    type_to_codex(&env, &id, "please make a file");
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
    approve_with_y(&env, &id, &made, "approved-in-codex\n");
    assert_ran(&fake, "the approved command's output");
    env.wait_screen(&id, "the answer", T, |s| {
        s.contains("Done, made.txt is there.")
    });
}

#[test]
fn codex_through_paddock_works_runs_its_tool_and_waits_with_the_rollouts_actions_and_tokens() {
    let cmd = "echo made-by-codex > made.txt";
    let fake = FakeApi::start(codex_script(cmd)).expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("codex sandbox");
    let env = Env::new();
    let _sup = env.up();
    let id = start_codex(&env, &sb, &[], &[], &codex_bin(), &[]);
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
        Self::start_as(cmd, &codex_bin())
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
        self.asked("waiting_permission").1
    }

    /// Once the session waits for `what` with a request: its row, and the one pending
    /// request.
    fn asked(&self, what: &str) -> (Value, Value) {
        let row = self.wait_row(what, |r| {
            r["state"] == "waiting_permission" && !r["permission"]["id"].is_null()
        });
        (row, self.pending())
    }

    /// Runs `codex` through its app-server with `extra` arguments (turning a feature on), its
    /// model first answering "please make a file" with `first`, then `then` after each tool
    /// result, then "Done with made.txt.".
    fn with_tools(first: Reply, then: &[Reply], extra: &[&str]) -> Self {
        let mut script =
            Script::new().then(first.when(When::UserSays("please make a file".into())));
        for r in then {
            script = script.then(r.clone().when(When::ToolResult));
        }
        let script = script.then(Reply::text("Done with made.txt.").when(When::ToolResult));
        Self::launch(script, &codex_bin(), extra)
    }

    /// The one pending permission request.
    fn pending(&self) -> Value {
        let pending: Vec<Value> = self.env.approvals();
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
    assert_ran(&app.fake, "the approved command's output");
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
    let told = told(&app.fake, "the declined command's output", 0);
    assert!(
        told.contains("rejected") && !told.contains("exited with code"),
        "{told}"
    );
    app.assert_turn_ended();
    assert!(!app.made().exists(), "the denied command ran");
    let pending: Vec<Value> = app.env.approvals();
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
    let (row, req) = app.asked("waiting_permission");
    let sources: Vec<&str> = row["sources"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        !sources.contains(&"hooks")
            && (sources.contains(&"program") || sources.contains(&"screen")),
        "{row:#}"
    );
    assert_eq!(req["channel"], "terminal", "{row:#}");
    approve_with_y(&app.env, &app.id, &app.made(), "approved-in-the-terminal\n");
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
    let app = CodexApp::with_tools(
        Reply::tool_use("request_user_input", question),
        &[],
        &["--enable", "default_mode_request_user_input"],
    );
    app.say();
    let (row, req) = app.asked("waiting for the owner's answer");
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
    let told = told(&app.fake, "the question's answer", 0);
    assert!(told.contains("Blue") && told.contains("colour"), "{told}");
    app.assert_turn_ended();
}

#[test]
fn codex_through_its_app_server_asks_for_more_permissions_in_paddock_and_is_granted_them() {
    // Codex's `request_permissions` tool (behind a feature flag in 0.169.0).
    let ask = json!({"reason": "Fetch the crate index",
        "permissions": {"network": {"enabled": true}}});
    let app = CodexApp::with_tools(
        Reply::tool_use("request_permissions", ask),
        &[],
        &["--enable", "request_permissions_tool"],
    );
    app.say();
    let (_, req) = app.asked("waiting for permission");
    assert_eq!(req["channel"], "hook", "{req:#}");
    assert_eq!(req["tool"], "permissions", "{req:#}");
    assert_eq!(req["input"]["reason"], "Fetch the crate index", "{req:#}");
    assert_eq!(
        req["input"]["permissions"]["network"]["enabled"], true,
        "{req:#}"
    );
    app.env.ok(&["approve", req["id"].as_str().expect("id")]);
    let told = told(&app.fake, "the grant", 0);
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
    let app = CodexApp::with_tools(call("one"), &[call("two")], &[]);
    app.say();
    let asked = |n: &str| {
        let (_, req) = app.asked("waiting for permission to run the MCP tool");
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
    // Approved, the tool ran: Paddock's own MCP server sent the notification.
    let ran = told(&app.fake, "the tool's result", 0);
    assert!(
        ran.contains("sent to the owner's notification channels"),
        "{ran}"
    );
    let second = asked("two");
    app.env.ok(&["deny", &second]);
    let told = told(&app.fake, "the declined tool's result", 1);
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
            let all: Vec<Value> = env.approvals();
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
