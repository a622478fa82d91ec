//! The owner's login-shell environment, for the sessions the supervisor starts (REST, the UI,
//! MCP, the app). A supervisor started by launchd, systemd or a desktop app has almost none
//! of the owner's `PATH`, API keys or tool managers (nvm, asdf); their login shell has.
//!
//! It is read once, on the first start, from `$SHELL -l -i -c 'env -0'` (with a timeout),
//! kept, and read again when asked ([`LoginEnv::refresh`], which the doctor does). The
//! order of precedence for a session's variables, last wins: the supervisor's own
//! environment, then the login shell's, then the session's own (`env` of the request).
//! Variables that describe the shell itself (`PWD`, `SHLVL`, `_`...), Paddock's own
//! (`PADDOCK_*`) and the ones that break a nested agent ([`crate::nested`]) are not taken.
//! `agents.login_env = false` turns it off.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the login shell may take to print its environment.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Printed before the environment, so that whatever the profile prints is skipped.
const MARKER: &str = "__PADDOCK_LOGIN_ENV__";
/// Variables about the shell process itself, never handed on.
const SHELL_OWN: &[&str] = &[
    "PWD", "OLDPWD", "SHLVL", "_", "TERM", "PS1", "PS2", "COLUMNS", "LINES",
];

/// Why the login shell's environment could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoginEnvError {
    #[error("cannot run the login shell {shell}: {reason}; agents get the supervisor's environment instead")]
    Run { shell: PathBuf, reason: String },
    #[error("the login shell {shell} printed no environment ({reason}); agents get the supervisor's environment instead")]
    Output { shell: PathBuf, reason: String },
}

/// A login-shell environment: its variables, in the shell's order.
pub type Vars = Arc<Vec<(String, String)>>;

/// The cached login-shell environment. Cheap to share (one per supervisor).
#[derive(Default)]
pub struct LoginEnv {
    cached: Mutex<Option<Result<Vars, LoginEnvError>>>,
}

impl LoginEnv {
    /// The cached environment, read now if it never was (blocking up to [`TIMEOUT`]).
    pub fn get(&self) -> Result<Vars, LoginEnvError> {
        if let Some(c) = self.lock().as_ref() {
            return c.clone();
        }
        self.refresh()
    }

    /// Reads the login shell's environment again and keeps it.
    pub fn refresh(&self) -> Result<Vars, LoginEnvError> {
        let read = read(&owner_shell(), TIMEOUT).map(Arc::new);
        if let Err(e) = &read {
            tracing::warn!(error = %e, "the owner's login-shell environment");
        }
        *self.lock() = Some(read.clone());
        read
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Result<Vars, LoginEnvError>>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The owner's shell: `$SHELL`, else `/bin/sh`.
pub fn owner_shell() -> PathBuf {
    std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

/// Runs `shell -l -i -c` to print its environment, and returns the variables worth handing
/// to an agent.
pub fn read(shell: &Path, timeout: Duration) -> Result<Vec<(String, String)>, LoginEnvError> {
    read_with(shell, &[], timeout)
}

/// [`read`], with `vars` set for the shell (tests give it a fake `HOME`).
fn read_with(
    shell: &Path,
    vars: &[(&str, &str)],
    timeout: Duration,
) -> Result<Vec<(String, String)>, LoginEnvError> {
    let mut cmd = std::process::Command::new(shell);
    cmd.args([
        "-l",
        "-i",
        "-c",
        &format!("printf '\\0{MARKER}\\0'; env -0"),
    ]);
    cmd.envs(vars.iter().copied());
    paddock_host::without_terminal(&mut cmd);
    let out = crate::doctor::output_within(cmd, timeout).map_err(|reason| LoginEnvError::Run {
        shell: shell.to_owned(),
        reason,
    })?;
    let (_, env) =
        out.split_once(&format!("\0{MARKER}\0"))
            .ok_or_else(|| LoginEnvError::Output {
                shell: shell.to_owned(),
                reason: "the start marker is missing".into(),
            })?;
    Ok(parse(env))
}

/// The `K=V\0` records of `env -0`, without the shell's own variables, Paddock's, and those
/// that break a nested agent.
fn parse(text: &str) -> Vec<(String, String)> {
    text.split('\0')
        .filter_map(|r| r.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && !SHELL_OWN.contains(k)
                && !k.starts_with("PADDOCK_")
                && !crate::nested::is_nested(k)
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A session's variables on top of the login shell's: the session's own win.
pub fn merge(login: &[(String, String)], own: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = login
        .iter()
        .filter(|(k, _)| !own.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    env.extend(own);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_shells_profile_exports_are_read_and_its_noise_skipped() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            home.path().join(".profile"),
            "echo 'welcome, noisy profile'\nexport FROM_PROFILE='a b=c'\nexport CLAUDECODE=1\n",
        )
        .expect("profile");
        let home_path = home.path().to_str().expect("utf-8 path");
        // `sh -l` reads ~/.profile; `ENV` names the file an interactive sh reads.
        let vars = [("HOME", home_path), ("ENV", "/dev/null")];
        let read = read_with(Path::new("/bin/sh"), &vars, TIMEOUT).expect("read");
        assert!(
            read.contains(&("FROM_PROFILE".into(), "a b=c".into())),
            "{read:?}"
        );
        assert!(
            !read.iter().any(|(k, _)| k == "CLAUDECODE" || k == "PWD"),
            "{read:?}"
        );
    }

    #[test]
    fn the_sessions_own_variables_win() {
        let login = vec![("A".into(), "login".into()), ("B".into(), "login".into())];
        let env = merge(&login, vec![("A".into(), "mine".into())]);
        assert_eq!(
            env,
            vec![("B".into(), "login".into()), ("A".into(), "mine".into())]
        );
    }

    #[test]
    fn a_shell_that_cannot_run_is_explained() {
        let err = read(Path::new("/no/such/shell"), TIMEOUT).expect_err("no shell");
        assert!(
            err.to_string().contains("supervisor's environment"),
            "{err}"
        );
    }
}
