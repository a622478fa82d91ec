//! What the real-CLI tests of this crate share (`real_cli.rs`, `conversation_real.rs`):
//! running an agent's one-shot command to its end against the fake API, and the Codex
//! session both read (one command that makes a file, then a reply).

use paddock_fakeapi::agents::{self, CodexSandbox};
use paddock_fakeapi::{FakeApi, Reply, Script, Usage, When};
use serde_json::json;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a real CLI's run may take.
pub const T: Duration = Duration::from_secs(120);

/// Runs `cmd` (its stdin closed) to its end, within [`T`]; a run that does not end in time
/// is killed and the test fails with the fake's log.
pub fn run_to_end(mut cmd: Command, what: &str, fake: &FakeApi) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > T => {
                let _ = child.kill();
                panic!("{what} did not finish within {T:?}\n{}", fake.log());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
    child.wait_with_output().expect("output")
}

/// What a run printed: its standard output, then its standard error.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Fails the test, with what the run printed and the fake's log, unless the run succeeded.
// Not every test file that shares this module asserts a success.
#[allow(dead_code)]
pub fn assert_success(out: &Output, what: &str, fake: &FakeApi) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        printed(out),
        fake.log()
    );
}

/// The real `codex exec "please make a file"` in a fresh sandbox, against a fake that has
/// it run `echo made-by-codex > made.txt` (100 in, 20 out) and then answer `reply` (130 in,
/// 64 of them cached, 8 out): the fake, the sandbox (its rollout) and the run.
pub fn codex_makes_a_file(reply: &str) -> (FakeApi, CodexSandbox, Output) {
    let codex = agents::codex_bin().unwrap_or_else(|e| panic!("{e}"));
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::tool_use(
                    "exec_command",
                    json!({"cmd": "echo made-by-codex > made.txt"}),
                )
                .with_thinking("I should run a command.")
                .when(When::UserSays("please make a file".into()))
                .usage(Usage::new(100, 20)),
            )
            .then(
                Reply::text(reply)
                    .when(When::ToolResult)
                    .usage(Usage::new(130, 8).with_cache(0, 64)),
            ),
    )
    .expect("fake API");
    let sb = CodexSandbox::new(&fake.url()).expect("sandbox");
    let mut cmd = Command::new(codex);
    sb.apply(&mut cmd);
    cmd.args(["exec", "--skip-git-repo-check", "please make a file"]);
    let out = run_to_end(cmd, "codex exec", &fake);
    (fake, sb, out)
}
