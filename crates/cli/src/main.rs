//! `paddock`: run agents in terminals that outlive everything, list them, attach to them,
//! type into them, read their output and control them.
//!
//! One module per subcommand under `cmd/`, each an `Args` struct with `run()`.
#![forbid(unsafe_code)]

// Claude Code background agents (issue 15, item 1).
mod claude_bg;
mod cmd;
mod errors;
mod remote_client;
mod supervisor_client;
mod table;
mod target;
mod term;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Supervise AI coding agents (and any terminal program) in terminals that outlive the
/// supervisor, the apps and the terminal that started them.
#[derive(Parser)]
#[command(name = "paddock", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success, 1 error, 2 usage error, 3 no such session, \
4 the session has exited, 5 cannot reach the session's holder, \
6 no sign that input was taken (message, send --enter).\n\
Environment: PADDOCK_RUNTIME_DIR (where sessions live), PADDOCK_LOG (log filter, e.g. debug), \
PADDOCK_SECRET_STORE=file (tokens of `paddock remote` hosts in 0600 files, not the keychain)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Up(cmd::up::Args),
    Status(cmd::status::Args),
    Doctor(cmd::doctor::Args),
    Run(cmd::run::Args),
    Claude(cmd::claude::Args),
    Ls(cmd::ls::Args),
    Show(cmd::show::Args),
    History(cmd::history::Args),
    Attach(cmd::attach::Args),
    Send(cmd::send::Args),
    Logs(cmd::logs::Args),
    Signal(cmd::signal::Args),
    Stop(cmd::signal::StopArgs),
    Kill(cmd::signal::KillArgs),
    #[command(visible_alias = "pause")]
    Suspend(cmd::signal::SuspendArgs),
    Resume(cmd::signal::ResumeArgs),
    Restart(cmd::restart::Args),
    Approvals(cmd::approvals::ListArgs),
    Approve(cmd::approvals::ApproveArgs),
    Deny(cmd::approvals::DenyArgs),
    Message(cmd::control::MessageArgs),
    Interrupt(cmd::control::InterruptArgs),
    Hook(cmd::hook::Args),
    Rm(cmd::rm::Args),
    TmuxAttach(cmd::tmux_attach::Args),
    // adopt: begin
    Adopt(cmd::adopt::Args),
    // adopt: end
    Completions(cmd::completions::Args),
    DefaultConfig(cmd::default_config::Args),
    Service(cmd::service::Args),
    Pair(cmd::pair::Args),
    Devices(cmd::devices::Args),
    Remote(cmd::remote::Args),
    Notifications(cmd::notifications::Args),
    Mcp(cmd::mcp::Args),
    // worktrees (issue 16): begin
    Worktree(cmd::worktree::Args),
    // worktrees (issue 16): end
    /// Runs a session holder (started by `paddock run`; not for direct use).
    #[command(name = "__holder", hide = true)]
    Holder,
}

fn main() -> ExitCode {
    paddock_core::upgrade::record_commit(env!("BUILD_GIT_COMMIT"));
    // A holder lives as long as its agent: keep its resident set small by not touching the
    // argument parser's code at all.
    if std::env::args_os().nth(1).is_some_and(|a| a == "__holder") {
        return cmd::holder::main();
    }
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Up(_)) {
        // Short-lived commands die quietly when their output pipe closes, like other tools.
        // The supervisor keeps SIGPIPE ignored (it writes to sockets that may close) and
        // sets up its own logging, to its log files.
        paddock_host::default_sigpipe();
        init_logging("warn");
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paddock: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Up(a) => a.run().await,
            Command::Status(a) => a.run().await,
            Command::Doctor(a) => a.run().await,
            Command::Run(a) => a.run().await,
            Command::Claude(a) => a.run().await,
            Command::Approvals(a) => a.run().await,
            Command::Notifications(a) => a.run().await,
            Command::Mcp(a) => a.run(),
            Command::Approve(a) => a.run().await,
            Command::Deny(a) => a.run().await,
            Command::Message(a) => a.run().await,
            Command::Interrupt(a) => a.run().await,
            Command::Hook(a) => a.run().await,
            Command::Ls(a) => a.run().await,
            Command::Show(a) => a.run().await,
            Command::History(a) => a.run().await,
            Command::Attach(a) => a.run().await,
            Command::Send(a) => a.run().await,
            Command::Logs(a) => a.run().await,
            Command::Signal(a) => a.run().await,
            Command::Stop(a) => a.run().await,
            Command::Kill(a) => a.run().await,
            Command::Suspend(a) => a.run().await,
            Command::Resume(a) => a.run().await,
            Command::Restart(a) => a.run().await,
            Command::Rm(a) => a.run().await,
            Command::TmuxAttach(a) => a.run().await,
            Command::Adopt(a) => a.run().await, // adopt
            Command::Completions(a) => a.run(),
            Command::DefaultConfig(a) => a.run(),
            Command::Service(a) => a.run().await,
            Command::Pair(a) => a.run().await,
            Command::Devices(a) => a.run().await,
            Command::Remote(a) => a.run().await,
            // worktrees (issue 16)
            Command::Worktree(a) => a.run().await,
            Command::Holder => Ok(()),
        }
    });
    // Do not wait for blocking reads of stdin (attach) to finish.
    rt.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("paddock: {err:#}");
            ExitCode::from(errors::exit_code(&err))
        }
    }
}

/// Logs to stderr, filtered by `PADDOCK_LOG` (`debug`, `info,paddock_host=trace`, ...).
pub fn init_logging(default: &str) {
    let _ = paddock_core::logging::init(paddock_core::logging::LogSetup::stderr(default));
}
