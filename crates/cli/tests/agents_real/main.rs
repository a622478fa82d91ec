//! The real Claude Code, installed by `scripts/install-agents.sh`, driven offline against
//! `paddock-fakeapi`: in a real PTY under `paddock run` (the harness is
//! `common/claude.rs`'s [`Claude`]), typed into with `paddock send`, its hooks and
//! transcripts checked, its states and permission requests through the supervisor. Codex is
//! in codex_real/. These tests fail (they never skip) when the CLIs are not installed;
//! the message says how to install.

#[path = "../common/claude.rs"]
mod claude;
#[path = "../common/mod.rs"]
mod common;

mod hooks;
mod nested;
mod supervised;
mod support;
