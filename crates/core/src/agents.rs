//! Which agent a command is. Kept small here until the agent adapters (next issue) own it.

use std::path::Path;

/// `claude`, `codex`, `gemini`, `aider` from a command and its arguments (the program's file
/// name, or the script a node, bun or python process runs).
pub fn classify_command(command: &str, args: &[String]) -> Option<String> {
    let known = ["claude", "codex", "gemini", "aider"];
    let name_of = |s: &str| {
        Path::new(s)
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let program = name_of(command);
    if let Some(k) = known.iter().find(|k| program == **k) {
        return Some((*k).to_owned());
    }
    let interpreters = ["node", "bun", "deno", "python", "python3", "npx"];
    if interpreters.contains(&program.as_str()) {
        for arg in args.iter().filter(|a| !a.starts_with('-')).take(2) {
            let lower = arg.to_ascii_lowercase();
            if lower.contains("claude-code") || name_of(&lower) == "claude" {
                return Some("claude".into());
            }
            if lower.contains("@openai/codex") || name_of(&lower) == "codex" {
                return Some("codex".into());
            }
            if lower.contains("gemini-cli") || name_of(&lower) == "gemini" {
                return Some("gemini".into());
            }
            if name_of(&lower) == "aider" {
                return Some("aider".into());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(cmd: &str, args: &[&str]) -> Option<String> {
        classify_command(cmd, &args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn agents_are_recognised_by_program_or_script() {
        assert_eq!(c("claude", &[]).as_deref(), Some("claude"));
        assert_eq!(
            c("/usr/local/bin/codex", &["exec"]).as_deref(),
            Some("codex")
        );
        assert_eq!(
            c(
                "node",
                &["/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"]
            )
            .as_deref(),
            Some("claude")
        );
        assert_eq!(
            c("python3", &["/home/u/.local/bin/aider"]).as_deref(),
            Some("aider")
        );
        assert_eq!(c("bash", &["-i"]), None);
        assert_eq!(c("node", &["server.js"]), None);
    }
}
