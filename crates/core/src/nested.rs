//! Inherited variables that break a nested agent: a `claude` started from inside another
//! Claude Code session, or from Anthropic's cloud/remote environments, inherits variables
//! meant for its parent (`CLAUDECODE=1`, `CLAUDE_CODE_ENTRYPOINT`, `CLAUDE_CODE_REMOTE*`,
//! and `CLAUDE_CODE_*_FILE_DESCRIPTOR`, which name pipes only the parent's launcher opened)
//! and then cannot authenticate or prints nothing.
//!
//! [`crate::start::prepare`] removes them from every session it starts unless asked to keep
//! them (`paddock run --keep-nested-env`, `keep_nested_env` in `POST /api/v1/sessions`,
//! `agents.keep_nested_env` in the supervisor's configuration); `paddock doctor` names the
//! ones the caller's environment holds. The list was taken from the pinned Claude Code CLI
//! (2.1.328), where each of these is read as "I was started by another Claude Code".

/// Variables removed by name.
const EXACT: &[&str] = &[
    // Set by a running Claude Code for its children: the child believes it is nested.
    "CLAUDECODE",
    // The parent's launcher (cli, sdk-ts, remote...), reported as the child's own.
    "CLAUDE_CODE_ENTRYPOINT",
    // The parent's IDE connection and session identity.
    "CLAUDE_CODE_SSE_PORT",
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_CODE_CHILD_SESSION",
    "CLAUDE_CODE_CONTAINER_ID",
    // An SDK host that refreshes the parent's credentials, which the child has no link to.
    "CLAUDE_CODE_SDK_HAS_OAUTH_REFRESH",
    "CLAUDE_CODE_SDK_HAS_SESSIONS_OAUTH_REFRESH",
    "CLAUDE_CODE_SDK_HAS_HOST_AUTH_REFRESH",
];

/// Variables removed by prefix: the cloud/remote environment (`CLAUDE_CODE_REMOTE`,
/// `CLAUDE_CODE_REMOTE_SESSION_ID`, `CLAUDE_CODE_REMOTE_ENVIRONMENT_TYPE`...).
const PREFIXES: &[&str] = &["CLAUDE_CODE_REMOTE"];

/// Whether `name` is one of the variables that can only break an agent started anew.
pub fn is_nested(name: &str) -> bool {
    EXACT.contains(&name)
        || PREFIXES.iter().any(|p| name.starts_with(p))
        || ((name.starts_with("CLAUDE_CODE_") || name.starts_with("CCR_"))
            && name.ends_with("_FILE_DESCRIPTOR"))
}

/// The names in `env` that [`is_nested`] matches, sorted.
pub fn found<K: AsRef<std::ffi::OsStr>>(env: impl IntoIterator<Item = K>) -> Vec<String> {
    let mut names: Vec<String> = env
        .into_iter()
        .filter_map(|k| k.as_ref().to_str().map(str::to_owned))
        .filter(|k| is_nested(k))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The names in this process's environment that [`is_nested`] matches.
pub fn in_process() -> Vec<String> {
    found(std::env::vars_os().map(|(k, _)| k))
}

/// Why `name` breaks a new agent, in a few words.
pub fn why(name: &str) -> &'static str {
    if name.ends_with("_FILE_DESCRIPTOR") {
        "names a descriptor only the parent's launcher opened, so a new agent cannot log in"
    } else if name.starts_with("CLAUDE_CODE_REMOTE") {
        "makes a new agent act as a cloud/remote session"
    } else {
        "makes a new agent act as part of its parent's session"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_sessions_variables_match_and_ordinary_ones_do_not() {
        for name in [
            "CLAUDECODE",
            "CLAUDE_CODE_ENTRYPOINT",
            "CLAUDE_CODE_REMOTE",
            "CLAUDE_CODE_REMOTE_ENVIRONMENT_TYPE",
            "CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR",
            "CLAUDE_CODE_OAUTH_TOKEN_FILE_DESCRIPTOR",
            "CLAUDE_CODE_API_KEY_FILE_DESCRIPTOR",
            "CCR_AGENT_PROXY_TOKEN_FILE_DESCRIPTOR",
        ] {
            assert!(is_nested(name), "{name}");
        }
        for name in [
            "ANTHROPIC_API_KEY",
            "CLAUDE_CODE_OAUTH_TOKEN",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
            "CLAUDE_CONFIG_DIR",
            "PATH",
        ] {
            assert!(!is_nested(name), "{name}");
        }
    }

    #[test]
    fn found_lists_each_name_once_in_order() {
        let names = found([
            "PATH",
            "CLAUDECODE",
            "CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR",
            "CLAUDECODE",
        ]);
        assert_eq!(
            names,
            ["CLAUDECODE", "CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR"]
        );
        assert!(why(&names[1]).contains("descriptor"));
    }
}
