//! One module per subcommand.

pub mod adopt;
pub mod approvals;
pub mod attach;
pub mod claude;
pub mod completions;
pub mod control;
pub mod default_config;
pub mod devices;
pub mod doctor;
pub mod history;
pub mod holder;
pub mod hook;
pub mod logs;
pub mod ls;
pub mod mcp;
pub mod notifications;
pub mod pair;
pub mod remote;
pub mod restart;
pub mod rm;
pub mod run;
pub mod send;
pub mod service;
pub mod show;
pub mod signal;
pub mod status;
pub mod tmux_attach;
pub mod up;
// worktrees (issue 16): begin
pub mod worktree;
// worktrees (issue 16): end
