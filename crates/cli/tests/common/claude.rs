//! The real Claude Code under `paddock run`, for the tests that drive it (agents_real.rs,
//! claude_bg.rs, mcp_claude.rs, mcp_wiring.rs): the pinned CLI in a [`ClaudeSandbox`],
//! offline against `paddock-fakeapi`. Included as `#[path = "common/claude.rs"] mod claude;`.
//! A missing CLI fails the test (never skips it) with the message saying how to install it.

#![allow(dead_code)]

use crate::common::Env;
use paddock_fakeapi::agents::ClaudeSandbox;
use paddock_fakeapi::claude_session::{prompt_ready, CLAUDE_READY};
use std::time::Duration;

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
    let mut cmd = env.cmd();
    sandbox.apply(&mut cmd);
    let out = cmd
        .envs(vars.iter().copied())
        .arg("run")
        .args(run_args)
        .arg("--")
        .args(argv)
        .output()
        .expect("paddock run");
    assert!(
        out.status.success(),
        "paddock run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
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
