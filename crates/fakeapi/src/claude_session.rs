//! What every test that drives the real `claude` in a [`ClaudeSandbox`] repeats: a `claude`
//! command set up in the sandbox, the command line of an interactive session, and the sign on
//! its rendered screen that its prompt is ready for typing. Kept apart from `agents.rs` (the
//! sandboxes themselves) so each agent's sandbox stays one block there.

use crate::agents::{claude_bin, ClaudeSandbox, MissingAgent};
use std::ffi::OsString;
use std::process::Command;

/// What Claude Code's footer shows once its prompt is drawn and ready for typing.
pub const CLAUDE_READY: &str = "? for shortcuts";

/// Whether a rendered screen (or captured pane) shows Claude Code ready at its prompt.
pub fn prompt_ready(screen: &str) -> bool {
    screen.contains(CLAUDE_READY)
}

impl ClaudeSandbox {
    /// The pinned `claude` as a user would type it in this sandbox: its HOME, API and
    /// environment, started in the trusted project.
    pub fn claude_command(&self) -> Result<Command, MissingAgent> {
        let mut cmd = Command::new(claude_bin()?);
        self.apply(&mut cmd);
        Ok(cmd)
    }

    /// `claude ARGS` as the argument vector a harness runs (`paddock run -- ...`): the pinned
    /// binary first. The caller still gives the harness the sandbox ([`Self::apply`]).
    pub fn claude_argv<S: AsRef<str>>(&self, args: &[S]) -> Result<Vec<OsString>, MissingAgent> {
        let mut argv = vec![claude_bin()?.into_os_string()];
        argv.extend(args.iter().map(|a| OsString::from(a.as_ref())));
        Ok(argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_footer_is_found_on_a_screen() {
        assert!(prompt_ready("> \n  ? for shortcuts          \n"));
        assert!(!prompt_ready("Welcome to Claude Code\n"));
    }

    #[test]
    fn the_claude_command_runs_in_the_trusted_project_or_names_what_is_missing() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        match sb.claude_command() {
            Ok(cmd) => {
                assert_eq!(cmd.get_current_dir(), Some(sb.project().as_path()));
                let home = cmd
                    .get_envs()
                    .find(|(k, _)| *k == "HOME")
                    .and_then(|(_, v)| v);
                assert_eq!(home, Some(sb.home().as_os_str()));
            }
            Err(e) => assert!(e.to_string().contains("install-agents.sh"), "{e}"),
        }
    }
}
