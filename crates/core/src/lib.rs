//! The supervisor: the one process per user and host that knows every agent session (in
//! Paddock's holders, in tmux panes, in terminals Paddock did not start), watches it and
//! remembers it. It holds no agent's life.
//!
//! Built as a library so that `paddock up` (headless) and the desktop app (host mode) run the
//! same code: [`supervisor::Supervisor::start`] gives a cloneable [`supervisor::Handle`].
#![forbid(unsafe_code)]

pub mod access;
pub mod agents;
pub mod api;
pub mod clock;
pub mod config;
pub mod control;
pub mod delivery;
pub mod doctor;
pub mod events;
// worktrees (issue 16): begin
pub mod git;
pub mod git_status;
// worktrees (issue 16): end
pub mod health;
pub mod history;
pub mod holders;
pub mod hooks;
pub mod inject;
pub mod keyfile;
pub mod local_client;
pub mod logfile;
pub mod logging;
pub mod login_env;
pub mod loglayer;
pub mod mcp;
pub mod needs;
pub mod needs_watch;
pub mod nested;
pub mod notify;
pub mod paths;
pub mod permissions;
pub mod recorder;
pub mod registry;
pub mod runtime_guard;
pub mod service;
pub mod start;
pub mod state;
pub mod status_files;
pub mod supervisor;
pub mod takeover;
pub mod terminal;
pub mod tmux;
pub mod transcripts;
// the desktop app's tray, without a display (apptrim): begin
pub mod tray;
// the desktop app's tray (apptrim): end
// upgrade: replacing a running supervisor of another build (branch upgrade)
pub mod upgrade;
pub mod watcher;
// worktrees (issue 16): begin
pub mod worktree;
// worktrees (issue 16): end

pub use config::Config;
pub use supervisor::{Handle, Supervisor, SupervisorError};
