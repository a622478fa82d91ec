//! The owner's environment: the login-shell variables agents get, variables inherited from
//! a parent agent, and tmux.

use super::agents::which;
use super::{check, output_within, var, Inputs, WithFix, PROGRAM_TIMEOUT};
use crate::nested;
use paddock_proto::doctor::{CheckStatus, DoctorCheck};
use std::process::Command;

pub(super) fn login_env_check(inputs: &Inputs) -> DoctorCheck {
    const TITLE: &str = "Owner's login-shell environment";
    match (&inputs.login_env, &inputs.login_env_error) {
        (Some(env), _) => check(
            "env.login",
            TITLE,
            CheckStatus::Ok,
            format!(
                "{} variables read from the login shell; sessions the supervisor starts get them (their own variables win)",
                env.len()
            ),
        ),
        (None, Some(e)) => check("env.login", TITLE, CheckStatus::Warn, e.clone()).fix(
            "make `$SHELL -l -i -c env` work without questions (a prompt or a slow rc file stops it); agents then get this process's environment instead",
        ),
        (None, None) => check(
            "env.login",
            TITLE,
            CheckStatus::Ok,
            "not read: this environment is the one agents get",
        ),
    }
}

pub(super) fn nested_check(env: &[(String, String)], keep: bool) -> DoctorCheck {
    const TITLE: &str = "Variables inherited from a parent Claude Code";
    let found = nested::found(env.iter().map(|(k, _)| k));
    if found.is_empty() {
        return check(
            "env.nested",
            TITLE,
            CheckStatus::Ok,
            "none in this environment",
        );
    }
    let detail = format!(
        "set here, left by a parent Claude Code: {}",
        found
            .iter()
            .map(|n| format!("{n} ({})", nested::why(n)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if keep {
        check("env.nested", TITLE, CheckStatus::Fail, detail).fix(format!(
            "agents.keep_nested_env is on, so sessions get them and fail: turn it off, or `unset {}` before `paddock up`",
            found.join(" ")
        ))
    } else {
        check("env.nested", TITLE, CheckStatus::Warn, detail).fix(format!(
            "Paddock leaves them out of the sessions it starts; before a `claude` you start by hand, `unset {}`",
            found.join(" ")
        ))
    }
}

pub(super) fn tmux_check(lookup: &[(String, String)]) -> DoctorCheck {
    let path = var(lookup, "PATH").unwrap_or("/usr/local/bin:/usr/bin:/bin");
    let Some(exe) = which("tmux", path) else {
        return check("tmux", "tmux", CheckStatus::Warn, "tmux is not on the PATH")
            .fix("install tmux to have agents you run in tmux found, attached and answered");
    };
    let mut cmd = Command::new(&exe);
    cmd.arg("-V");
    match output_within(cmd, PROGRAM_TIMEOUT) {
        Ok(out) => check(
            "tmux",
            "tmux",
            CheckStatus::Ok,
            format!("{} at {}", out.trim(), exe.display()),
        ),
        Err(e) => check(
            "tmux",
            "tmux",
            CheckStatus::Warn,
            format!("{} -V failed: {e}", exe.display()),
        )
        .fix("reinstall tmux"),
    }
}
