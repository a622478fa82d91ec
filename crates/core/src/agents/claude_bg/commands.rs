//! Claude's own commands for its background agents: `claude --bg PROMPT`, `claude stop|respawn
//! <id>`, and the argument list of `claude attach <id>` (run in a holder by `ops.rs`).
//! `claude` is looked up in the supervisor's `PATH`; the variables that break a nested
//! `claude` ([`crate::nested`]) are left out of its environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a command may take (the first `--bg` starts Claude's daemon: about 5 s).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Why one of Claude's commands failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(
        "cannot run `claude`: {0}; install Claude Code, or put it on the PATH of `paddock up`"
    )]
    Spawn(std::io::Error),
    #[error("`claude {args}` did not finish within {} s; see ~/.claude/daemon.log", COMMAND_TIMEOUT.as_secs())]
    Timeout { args: String },
    #[error("`claude {args}` failed ({status}): {message}")]
    Failed {
        args: String,
        status: String,
        message: String,
    },
    #[error("`claude --bg` answered without the id of a background session: {0:?}; is this Claude Code older than background agents (2.1.x)?")]
    NoId(String),
}

/// The program to run.
pub fn program() -> PathBuf {
    PathBuf::from("claude")
}

/// `claude attach <id>`: the command a holder runs to show the agent's terminal.
pub fn attach_args(id: &str) -> Vec<String> {
    vec!["attach".to_owned(), id.to_owned()]
}

async fn run(args: &[String], cwd: Option<&Path>) -> Result<String, CommandError> {
    let args = args.to_vec();
    let cwd = cwd.map(Path::to_owned);
    let shown = args.join(" ");
    tokio::task::spawn_blocking(move || run_blocking(&args, cwd.as_deref()))
        .await
        .unwrap_or(Err(CommandError::Timeout { args: shown }))
}

/// Runs `claude ARGS` and returns its stdout. Its output is read on threads of their own
/// and taken as it stands once the command exits: `--bg` starts Claude's daemon, which must
/// not keep this waiting for the end of a pipe it inherited.
fn run_blocking(args: &[String], cwd: Option<&Path>) -> Result<String, CommandError> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(program());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in crate::nested::in_process() {
        cmd.env_remove(name);
    }
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let shown = args.join(" ");
    let mut child = cmd.spawn().map_err(CommandError::Spawn)?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        if let Some(mut pipe) = pipe {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        rx
    };
    let out_rx = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err_rx = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait().map_err(CommandError::Spawn)? {
            Some(status) => break status,
            None if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CommandError::Timeout { args: shown });
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let drain = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
        let mut bytes = Vec::new();
        let until = std::time::Instant::now() + Duration::from_millis(500);
        while let Ok(chunk) =
            rx.recv_timeout(until.saturating_duration_since(std::time::Instant::now()))
        {
            bytes.extend(chunk);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let stdout = drain(out_rx);
    if !status.success() {
        let stderr = drain(err_rx);
        let message = [stderr.trim(), stdout.trim()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("no message")
            .to_owned();
        return Err(CommandError::Failed {
            args: shown,
            status: status.to_string(),
            message,
        });
    }
    Ok(stdout)
}

/// `claude --bg PROMPT` in `cwd`; returns the new agent's short id.
pub async fn start(prompt: &str, cwd: &Path) -> Result<String, CommandError> {
    let out = run(&["--bg".to_owned(), prompt.to_owned()], Some(cwd)).await?;
    backgrounded_id(&out).ok_or_else(|| CommandError::NoId(out.trim().to_owned()))
}

/// `claude stop <id>`.
pub async fn stop(id: &str) -> Result<(), CommandError> {
    run(&["stop".to_owned(), id.to_owned()], None)
        .await
        .map(drop)
}

/// `claude respawn <id>`.
pub async fn respawn(id: &str) -> Result<(), CommandError> {
    run(&["respawn".to_owned(), id.to_owned()], None)
        .await
        .map(drop)
}

/// The id in `claude --bg`'s answer: the line `backgrounded · <id>` (colours and the exact
/// separator tolerated).
pub fn backgrounded_id(out: &str) -> Option<String> {
    out.lines().find_map(|line| {
        let plain = strip_escapes(line);
        let rest = plain.trim().strip_prefix("backgrounded")?;
        let id = rest
            .trim_start_matches(|c: char| c.is_whitespace() || c == '·' || c == ':' || c == '-')
            .split_whitespace()
            .next()?;
        super::files::valid_id(id).then(|| id.to_owned())
    })
}

/// Drops CSI sequences (`ESC [ … final`), as a coloured terminal line may carry.
fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_the_pinned_clis_answer() {
        let out = "backgrounded · e21643de\n  claude agents             list sessions\n  claude attach e21643de    open in this terminal\n";
        assert_eq!(backgrounded_id(out).as_deref(), Some("e21643de"));
        assert_eq!(
            backgrounded_id("\u{1b}[1mbackgrounded\u{1b}[0m : 0a1b2c3d\n").as_deref(),
            Some("0a1b2c3d")
        );
    }

    #[test]
    fn an_answer_without_an_id_gives_none() {
        assert_eq!(backgrounded_id("error: unknown option '--bg'\n"), None);
        assert_eq!(backgrounded_id("backgrounded · NOT AN ID\n"), None);
        assert_eq!(backgrounded_id(""), None);
    }
}
