//! The real Codex CLI, installed by `scripts/install-agents.sh`, driven offline against
//! `paddock-fakeapi`: `codex exec`, its terminal UI in a real PTY under `paddock run` (typed
//! into with `paddock send`), its rollouts and notify calls checked, and Codex through its
//! app-server (state and approvals from its protocol). These tests fail (they never skip)
//! when the CLI is not installed; the message says how to install.

#[path = "../common/mod.rs"]
mod common;

mod app_server;
mod app_server_standin;
mod support;
mod terminal;
