//! The agent CLIs: which are installed, at which version against the tested one, and where
//! each one's authentication comes from.

use super::{check, output_within, var, WithFix, PROGRAM_TIMEOUT, TESTED};
use crate::nested;
use paddock_proto::doctor::{CheckStatus, DoctorCheck};
use std::path::PathBuf;
use std::process::Command;

/// An agent CLI Paddock knows.
pub(super) struct Agent {
    id: &'static str,
    title: &'static str,
    program: &'static str,
    tested_key: &'static str,
    install: &'static str,
}

pub(super) const AGENTS: &[Agent] = &[
    Agent {
        id: "claude",
        title: "Claude Code CLI",
        program: "claude",
        tested_key: "CLAUDE_CODE_VERSION",
        install: "npm install -g @anthropic-ai/claude-code",
    },
    Agent {
        id: "codex",
        title: "Codex CLI",
        program: "codex",
        tested_key: "CODEX_VERSION",
        install: "npm install -g @openai/codex",
    },
    // --- begin: Gemini CLI (issue 15, item 4) ---
    Agent {
        id: "gemini",
        title: "Gemini CLI",
        program: "gemini",
        tested_key: "GEMINI_CLI_VERSION",
        install: "npm install -g @google/gemini-cli (needs Node.js 20 or newer)",
    },
    // --- end: Gemini CLI ---
];

/// The version of `key` in `scripts/agent-versions.env`.
pub fn tested_version(key: &str) -> Option<&'static str> {
    TESTED
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
}

/// `program` on `path` (a `PATH` value), as the login shell would find it.
pub fn which(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The first `x.y.z` in `text`.
pub(super) fn version_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        })
        .map(str::to_owned)
}

pub(super) fn agent_checks(
    agent: &Agent,
    lookup: &[(String, String)],
    own: &[(String, String)],
) -> Vec<DoctorCheck> {
    let tested = tested_version(agent.tested_key).unwrap_or("unknown");
    let id = format!("agent.{}", agent.id);
    let path = var(lookup, "PATH").unwrap_or("/usr/local/bin:/usr/bin:/bin");
    let Some(exe) = which(agent.program, path) else {
        return vec![check(
            &id,
            agent.title,
            CheckStatus::Warn,
            format!(
                "`{}` is not on the owner's PATH; tested with {tested}",
                agent.program
            ),
        )
        .fix(format!(
            "install it ({}) if you want to run it, or ignore this",
            agent.install
        ))];
    };
    // Run it as a session would: without the variables that break a nested agent.
    let mut cmd = Command::new(&exe);
    cmd.arg("--version").env_clear();
    for (k, v) in lookup.iter().chain(own) {
        if !nested::is_nested(k) {
            cmd.env(k, v);
        }
    }
    let version = match output_within(cmd, PROGRAM_TIMEOUT) {
        Ok(out) => version_in(&out),
        Err(e) => {
            return vec![check(
                &id,
                agent.title,
                CheckStatus::Fail,
                format!("{} did not answer `--version`: {e}", exe.display()),
            )
            .fix(format!("reinstall it ({})", agent.install))]
        }
    };
    let first = match version.as_deref() {
        Some(v) if v == tested => check(
            &id,
            agent.title,
            CheckStatus::Ok,
            format!("{v} at {}; tested with {tested}", exe.display()),
        ),
        Some(v) => check(
            &id,
            agent.title,
            CheckStatus::Warn,
            format!("{v} at {}; Paddock was tested with {tested}", exe.display()),
        )
        .fix("it probably works; if its state looks wrong in Paddock, install the tested version"),
        None => check(
            &id,
            agent.title,
            CheckStatus::Warn,
            format!("{} printed no version; tested with {tested}", exe.display()),
        ),
    };
    vec![first, auth_check(agent, lookup, own)]
}

pub(super) fn auth_check(
    agent: &Agent,
    lookup: &[(String, String)],
    own: &[(String, String)],
) -> DoctorCheck {
    let id = format!("auth.{}", agent.id);
    let title = format!("{} authentication", agent.title);
    let both = |k: &str| var(own, k).or_else(|| var(lookup, k)).is_some();
    let home = var(lookup, "HOME")
        .or_else(|| var(own, "HOME"))
        .map(PathBuf::from);
    let (vars, files): (&[&str], Vec<PathBuf>) = match agent.id {
        "claude" => (
            &[
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_AUTH_TOKEN",
                "CLAUDE_CODE_OAUTH_TOKEN",
            ],
            home.iter()
                .map(|h| {
                    var(lookup, "CLAUDE_CONFIG_DIR")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| h.join(".claude"))
                        .join(".credentials.json")
                })
                .collect(),
        ),
        // --- begin: Gemini CLI (issue 15, item 4) ---
        // An API key (Gemini API or Vertex AI), or the "Login with Google" credentials it
        // caches in `$GEMINI_CLI_HOME/.gemini` (else `~/.gemini`).
        "gemini" => (
            &[
                "GEMINI_API_KEY",
                "GOOGLE_API_KEY",
                "GOOGLE_APPLICATION_CREDENTIALS",
            ],
            var(lookup, "GEMINI_CLI_HOME")
                .map(PathBuf::from)
                .or_else(|| home.clone())
                .iter()
                .map(|h| h.join(".gemini").join("oauth_creds.json"))
                .collect(),
        ),
        // --- end: Gemini CLI ---
        _ => (
            &["OPENAI_API_KEY", "CODEX_API_KEY"],
            home.iter()
                .map(|h| {
                    var(lookup, "CODEX_HOME")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| h.join(".codex"))
                        .join("auth.json")
                })
                .collect(),
        ),
    };
    if let Some(v) = vars.iter().find(|v| both(v)) {
        return check(
            &id,
            &title,
            CheckStatus::Ok,
            format!("{v} is set (value not shown)"),
        );
    }
    if let Some(f) = files.iter().find(|f| f.is_file()) {
        return check(
            &id,
            &title,
            CheckStatus::Ok,
            format!("credentials in {}", f.display()),
        );
    }
    if agent.id == "claude" && cfg!(target_os = "macos") && claude_keychain_entry() {
        return check(
            &id,
            &title,
            CheckStatus::Ok,
            "credentials in the login keychain (Claude Code-credentials)",
        );
    }
    check(
        &id,
        &title,
        CheckStatus::Warn,
        format!(
            "no {} variable and no {}",
            vars.join(" / "),
            files
                .first()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "credentials file".into())
        ),
    )
    .fix(format!(
        "run `{}` once in a terminal and log in, or set {} in your shell's profile",
        agent.program, vars[0]
    ))
}

/// Whether the macOS keychain holds Claude Code's login (the entry's presence only).
pub(super) fn claude_keychain_entry() -> bool {
    let mut cmd = Command::new("security");
    cmd.args(["find-generic-password", "-s", "Claude Code-credentials"]);
    output_within(cmd, PROGRAM_TIMEOUT).is_ok()
}
