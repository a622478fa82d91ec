//! Claude Code's background agents under a real `paddock up`: the pinned `claude` (installed
//! by `scripts/install-agents.sh`), offline against `paddock-fakeapi`, in a sandbox HOME whose
//! daemon is stopped (and its lingering PTY hosts killed) when the test ends. A `claude --bg`
//! started outside Paddock is listed (`paddock ls`, REST) with its state, prompt and process;
//! its terminal opens through `claude attach` in a holder and is watched and typed into; it is
//! stopped and respawned through Claude's own commands; `paddock run --bg` starts one.

#[path = "common/claude.rs"]
mod claude;
mod common;
#[path = "common/web.rs"]
mod web;

use common::{wait_until, Env, Supervisor};
use paddock_fakeapi::agents::{self, ClaudeSandbox};
use paddock_fakeapi::{FakeApi, Script};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Generous: the CLI is a large program, its daemon starts on first use, the machine is shared.
const T: Duration = Duration::from_secs(90);

/// The sandbox, its fake API and a supervisor that sees the sandbox's HOME. Dropping it
/// stops the sandbox's Claude daemon and every process it left.
struct Bg {
    env: Env,
    fake: FakeApi,
    sandbox: ClaudeSandbox,
    tmp: PathBuf,
    sup: Option<Supervisor>,
}

impl Bg {
    fn new() -> Self {
        let claude = agents::claude_bin().unwrap_or_else(|e| panic!("{e}"));
        let env = Env::new();
        let fake = FakeApi::start(Script::new()).expect("fake API");
        let sandbox = ClaudeSandbox::new(&fake.url()).expect("claude sandbox");
        let tmp = sandbox.root().join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp");
        let bin = claude.parent().expect("claude's folder").to_owned();
        let mut bg = Self {
            env,
            fake,
            sandbox,
            tmp,
            sup: None,
        };
        let sup = bg.env.up_in(|up| {
            bg.claude_env(up);
            let path = std::env::var("PATH").unwrap_or_default();
            up.env("PATH", format!("{}:{path}", bin.display()))
                .envs(web::relaxed())
                .stderr(std::process::Stdio::null());
        });
        bg.sup = Some(sup);
        bg
    }

    /// The sandbox's environment (HOME, API, TMPDIR) on `cmd`, in the trusted project.
    fn claude_env(&self, cmd: &mut Command) {
        self.sandbox.apply(cmd);
        cmd.env("TMPDIR", &self.tmp);
    }

    /// `claude ARGS` in the sandbox, as a user would type it.
    fn claude(&self, args: &[&str]) -> String {
        let mut cmd = claude::claude(&self.sandbox);
        let out = cmd
            .env("TMPDIR", &self.tmp)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("claude");
        assert!(
            out.status.success(),
            "claude {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// This session's `ls --json` row once `pred` holds for it.
    fn wait_row(&self, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.env.wait_row(id, what, T, pred)
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        drop(self.sup.take());
        if let Ok(mut cmd) = self.sandbox.claude_command() {
            let _ = cmd
                .env("TMPDIR", &self.tmp)
                .args(["daemon", "stop", "--any"])
                .output();
        }
        // Its PTY hosts outlive the daemon: every process left with this sandbox's HOME goes.
        let home = format!("HOME={}", self.sandbox.home().display());
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<i32>().ok())
            else {
                continue;
            };
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            if environ.split(|b| *b == 0).any(|v| v == home.as_bytes()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

#[test]
fn a_real_background_agent_is_listed_watched_typed_into_stopped_and_respawned() {
    let bg = Bg::new();
    let out = bg.claude(&["--bg", "say hello from the background"]);
    let job = out
        .lines()
        .find_map(|l| l.strip_prefix("backgrounded · "))
        .unwrap_or_else(|| panic!("claude --bg printed no id: {out}"))
        .trim()
        .to_owned();
    let id = format!("cbg-{job}");

    // Listed by `paddock ls` with its backend, prompt, process and state from its files.
    let row = bg.wait_row(&id, "done with its first answer", |r| {
        (r["state"] == "waiting_input" || r["state"] == "idle")
            && r["rss"].as_u64().is_some_and(|b| b > 0)
    });
    assert_eq!(row["backend"], "claude_bg", "{row:#}");
    assert_eq!(row["agent"], "claude", "{row:#}");
    assert!(row["pid"].as_u64().is_some_and(|p| p > 0), "{row:#}");
    assert!(
        row["command"]
            .as_str()
            .is_some_and(|c| c.contains("say hello from the background")),
        "{row:#}"
    );
    assert_eq!(row["sources"][0], "status_file", "{row:#}");
    let table = bg.env.ok(&["ls"]);
    assert!(table.contains(&id), "{table}");

    // And by REST.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listed = rt.block_on(async {
        let web = web::Web::of(&bg.env);
        let token = web.token(&bg.env, "viewer").await;
        web.call("GET", "/api/v1/sessions", Some(&token), None)
            .await
    });
    assert_eq!(listed.status, 200, "{}", listed.body);
    let rest_row = listed
        .body
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id.as_str()))
        .unwrap_or_else(|| panic!("REST does not list {id}: {}", listed.body));
    assert_eq!(rest_row["backend"], "claude_bg", "{rest_row:#}");

    // Typing into it opens its terminal (`claude attach` in a holder); the text reaches the
    // model as the user's message.
    bg.env.ok(&[
        "send",
        &id,
        "--enter",
        "typed through paddock into the background",
    ]);
    wait_until("the typed message to reach the API", T, || {
        bg.fake.turns().iter().any(|r| {
            r.prompt()
                .contains("typed through paddock into the background")
        })
    });
    let row = bg.wait_row(&id, "held", |r| r["backend"] == "holder");
    assert!(
        row["command"]
            .as_str()
            .is_some_and(|c| c.contains("attach")),
        "{row:#}"
    );
    // Watched like any session: its screen shows the conversation.
    wait_until("the attached screen to show the typed message", T, || {
        bg.env.screen(&id).contains("typed through paddock")
    });

    // Stopped through `claude stop`: listed as ended, with Claude's word for it.
    let said = bg.env.ok(&["kill", &id]);
    assert!(said.contains("stopped"), "{said}");
    let stopped = bg.claude(&["agents", "--json", "--all"]);
    assert!(stopped.contains("\"stopped\""), "{stopped}");
    bg.wait_row(&id, "exited", |r| {
        r["state"] == "exited" && r["backend"] == "claude_bg"
    });

    // Respawned through `claude respawn`: live again, same id.
    let said = bg.env.ok(&["restart", &id]);
    assert!(said.contains("respawned"), "{said}");
    bg.wait_row(&id, "running again", |r| {
        r["state"] != "exited" && r["pid"].as_u64().is_some_and(|p| p > 0)
    });
}

#[test]
fn paddock_run_bg_and_rest_start_one_listed_before_they_return() {
    let bg = Bg::new();
    let mut cmd = bg.env.cmd();
    let out = cmd
        .current_dir(bg.sandbox.project())
        .args(["run", "--bg", "a task for the background"])
        .output()
        .expect("paddock run --bg");
    assert!(
        out.status.success(),
        "paddock run --bg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(id.starts_with("cbg-"), "{id}");
    let row = bg
        .env
        .ls()
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} is not in the next ls"));
    assert!(
        row["command"]
            .as_str()
            .is_some_and(|c| c.contains("a task for the background")),
        "{row:#}"
    );
    let agents = bg.claude(&["agents", "--json"]);
    assert!(agents.contains(id.trim_start_matches("cbg-")), "{agents}");

    // REST starts one the same way (`background` instead of a command).
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = rt.block_on(async {
        let web = web::Web::of(&bg.env);
        let token = web.token(&bg.env, "operator").await;
        web.call(
            "POST",
            "/api/v1/sessions",
            Some(&token),
            Some(
                serde_json::json!({"command": [], "background": "a task from REST",
                "cwd": bg.sandbox.project().display().to_string()}),
            ),
        )
        .await
    });
    assert_eq!(started.status, 201, "{}", started.body);
    let rest_id = started.body["id"].as_str().unwrap_or_default().to_owned();
    assert!(
        rest_id.starts_with("cbg-") && rest_id != id,
        "{}",
        started.body
    );
    assert!(
        bg.env.ls().iter().any(|r| r["id"] == rest_id.as_str()),
        "{rest_id} is not in the next ls"
    );
}

#[test]
fn a_bad_background_request_is_refused_with_a_reason() {
    let bg = Bg::new();
    let out = bg.env.paddock(&["run", "--bg", "   "]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("prompt is empty"), "{err}");
    let out = bg.env.paddock(&["restart", "cbg-0000dead"]);
    assert!(!out.status.success());
}
