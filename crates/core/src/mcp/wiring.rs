//! Paddock's MCP server in the configuration of the agents Paddock starts: the arguments
//! that add `paddock mcp` to Claude Code (an extra `--mcp-config`, which Claude Code merges
//! with the owner's own servers and with any `--mcp-config` given) and to Codex (`-c
//! mcp_servers.paddock.*` overrides, which leave the owner's other servers in config.toml in
//! place). The server's environment pins the session's id and the runtime directory, so the
//! relay finds the supervisor even when an agent filters the environment of its servers (as
//! Codex does).

use serde_json::{json, Value};
use std::path::Path;

/// The name Paddock's server has in an agent's MCP configuration (its tools reach the model
/// as `mcp__paddock__<tool>`).
pub const SERVER_NAME: &str = "paddock";

/// The variables the relay needs, for session `session` under runtime directory `runtime`.
fn server_env(session: &str, runtime: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("PADDOCK_SESSION_ID", session.to_owned()),
        ("PADDOCK_RUNTIME_DIR", runtime.display().to_string()),
    ]
}

/// Claude Code's `--mcp-config` JSON holding Paddock's server.
pub fn claude_config(exe: &Path, session: &str, runtime: &Path) -> Value {
    let env: serde_json::Map<String, Value> = server_env(session, runtime)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    json!({ "mcpServers": { SERVER_NAME: {
        "type": "stdio",
        "command": exe.display().to_string(),
        "args": ["mcp"],
        "env": env,
    }}})
}

/// Claude Code's arguments with Paddock's server in front, as `--mcp-config=JSON`: the `=`
/// form, because `--mcp-config` takes several values and would otherwise swallow a prompt
/// that follows it. The owner's own `--mcp-config` values and configured servers still load.
pub fn claude_args(args: Vec<String>, exe: &Path, session: &str, runtime: &Path) -> Vec<String> {
    let config = claude_config(exe, session, runtime);
    let mut out = Vec::with_capacity(args.len() + 1);
    out.push(format!("--mcp-config={config}"));
    out.extend(args);
    out
}

/// Codex's arguments with Paddock's server as `-c mcp_servers.paddock.*` overrides in front
/// (values in TOML; a JSON string is a TOML basic string).
pub fn codex_args(args: Vec<String>, exe: &Path, session: &str, runtime: &Path) -> Vec<String> {
    let key = format!("mcp_servers.{SERVER_NAME}");
    let env = server_env(session, runtime)
        .into_iter()
        .map(|(k, v)| format!("{k}={}", Value::String(v)))
        .collect::<Vec<_>>()
        .join(",");
    let mut out = vec![
        "-c".to_owned(),
        format!("{key}.command={}", Value::String(exe.display().to_string())),
        "-c".to_owned(),
        format!("{key}.args=[\"mcp\"]"),
        "-c".to_owned(),
        format!("{key}.env={{{env}}}"),
    ];
    out.extend(args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_gets_one_config_in_front_that_cannot_swallow_the_prompt() {
        let args = claude_args(
            vec!["--mcp-config".into(), "mine.json".into(), "hi".into()],
            Path::new("/opt/p \"d\"/paddock"),
            "abc",
            Path::new("/run/p"),
        );
        assert_eq!(&args[1..], ["--mcp-config", "mine.json", "hi"]);
        let json = args[0].strip_prefix("--mcp-config=").expect("the = form");
        let v: Value = serde_json::from_str(json).expect("json");
        let server = &v["mcpServers"]["paddock"];
        assert_eq!(server["command"], "/opt/p \"d\"/paddock");
        assert_eq!(server["args"], json!(["mcp"]));
        assert_eq!(server["env"]["PADDOCK_SESSION_ID"], "abc");
        assert_eq!(server["env"]["PADDOCK_RUNTIME_DIR"], "/run/p");
    }

    #[test]
    fn codex_overrides_parse_as_toml_and_keep_the_arguments() {
        let args = codex_args(
            vec!["exec".into(), "hi".into()],
            Path::new("/opt/p \"d\"/paddock"),
            "abc",
            Path::new("/run/p"),
        );
        assert_eq!(&args[6..], ["exec", "hi"]);
        let mut doc = String::new();
        for pair in args[..6].chunks(2) {
            assert_eq!(pair[0], "-c");
            doc.push_str(&pair[1]);
            doc.push('\n');
        }
        let table: toml::Table = doc.parse().expect("toml");
        let server = &table["mcp_servers"]["paddock"];
        assert_eq!(server["command"].as_str(), Some("/opt/p \"d\"/paddock"));
        assert_eq!(server["args"][0].as_str(), Some("mcp"));
        assert_eq!(server["env"]["PADDOCK_SESSION_ID"].as_str(), Some("abc"));
    }
}
