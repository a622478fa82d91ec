//! Hooks that `paddock run` adds to the agents it starts, so their state reaches the
//! supervisor exactly and at once: Claude Code's `--settings` hooks (merged with any
//! `--settings` the user gave; the user's own settings files keep their hooks too, Claude Code
//! merges them) and Codex's `notify` program.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Why Paddock's hooks could not be added to an agent's arguments.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("--settings needs a value")]
    SettingsValue,
    #[error("the --settings given is not a JSON object")]
    NotAnObject,
    #[error("`hooks` in the --settings given is not an object")]
    HooksNotAnObject,
    #[error("`hooks.{0}` in the --settings given is not a list")]
    HookNotAList(String),
    #[error("cannot read the settings file {path} given to --settings: {source}")]
    ReadSettings {
        path: String,
        source: std::io::Error,
    },
    #[error("the --settings given ({value}) is not valid JSON: {source}")]
    BadJson {
        value: String,
        source: serde_json::Error,
    },
    #[error("cannot write the agent's hook settings to {path}: {source}")]
    WriteSettings {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Claude Code events Paddock listens to.
const CLAUDE_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "Notification",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "StopFailure",
    "SessionEnd",
];

/// A permission hook may wait this long for a remote answer (Claude Code's maximum).
const PERMISSION_HOOK_TIMEOUT: u64 = 600;
/// Other hooks return at once; this only bounds a stuck one.
const HOOK_TIMEOUT: u64 = 10;

/// Quotes a path for the shell that runs hook commands.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Claude Code's hook settings calling `exe hook`.
pub fn claude_hooks(exe: &Path) -> Value {
    let command = format!("{} hook --agent claude", sh_quote(&exe.to_string_lossy()));
    let mut hooks = serde_json::Map::new();
    for event in CLAUDE_EVENTS {
        let timeout = if *event == "PermissionRequest" {
            PERMISSION_HOOK_TIMEOUT
        } else {
            HOOK_TIMEOUT
        };
        hooks.insert(
            (*event).to_owned(),
            json!([{ "matcher": "*", "hooks": [{ "type": "command", "command": command, "timeout": timeout }] }]),
        );
    }
    Value::Object(hooks)
}

/// Adds Paddock's hooks to `settings` (a settings object), keeping every hook already there.
pub fn merge_hooks(mut settings: Value, ours: &Value) -> Result<Value, InjectError> {
    let obj = settings.as_object_mut().ok_or(InjectError::NotAnObject)?;
    let hooks = obj.entry("hooks").or_insert_with(|| json!({}));
    let hooks = hooks.as_object_mut().ok_or(InjectError::HooksNotAnObject)?;
    if let Some(ours) = ours.as_object() {
        for (event, groups) in ours {
            let list = hooks.entry(event.clone()).or_insert_with(|| json!([]));
            let list = list
                .as_array_mut()
                .ok_or_else(|| InjectError::HookNotAList(event.clone()))?;
            if let Some(groups) = groups.as_array() {
                list.extend(groups.iter().cloned());
            }
        }
    }
    Ok(settings)
}

/// Claude Code's arguments with Paddock's hooks, written to `file` (0600): merged into the
/// user's `--settings` (JSON or a file) when there is one, else a `--settings` in front.
pub fn claude_args_with_file(
    args: &[String],
    exe: &Path,
    file: &Path,
) -> Result<Vec<String>, InjectError> {
    let mut out = claude_args(args, exe)?;
    if let Some(i) = out.iter().position(|a| a == "--settings") {
        if let Some(json) = out.get(i + 1).cloned() {
            crate::keyfile::write_private(file, json.as_bytes()).map_err(|source| {
                InjectError::WriteSettings {
                    path: file.to_owned(),
                    source,
                }
            })?;
            out[i + 1] = file.display().to_string();
        }
    }
    Ok(out)
}

/// Claude Code's arguments with Paddock's hooks: merged into the user's `--settings` (JSON or
/// a file) when there is one, else a `--settings` of their own in front.
pub fn claude_args(args: &[String], exe: &Path) -> Result<Vec<String>, InjectError> {
    let ours = claude_hooks(exe);
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut merged = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            out.extend(args[i..].iter().cloned());
            break;
        }
        let given = if a == "--settings" {
            i += 1;
            Some(args.get(i).cloned().ok_or(InjectError::SettingsValue)?)
        } else {
            a.strip_prefix("--settings=").map(str::to_owned)
        };
        match given {
            Some(value) if !merged => {
                let user = read_settings(&value)?;
                out.push("--settings".into());
                out.push(merge_hooks(user, &ours)?.to_string());
                merged = true;
            }
            Some(value) => {
                out.push("--settings".into());
                out.push(value);
            }
            None => out.push(a.clone()),
        }
        i += 1;
    }
    if !merged {
        let settings = json!({ "hooks": ours });
        out.splice(0..0, ["--settings".to_owned(), settings.to_string()]);
    }
    Ok(out)
}

/// A `--settings` value: inline JSON or a file holding it.
fn read_settings(value: &str) -> Result<Value, InjectError> {
    let text = if value.trim_start().starts_with('{') {
        value.to_owned()
    } else {
        std::fs::read_to_string(value).map_err(|source| InjectError::ReadSettings {
            path: value.to_owned(),
            source,
        })?
    };
    serde_json::from_str(&text).map_err(|source| InjectError::BadJson {
        value: value.to_owned(),
        source,
    })
}

/// Codex's arguments with Paddock's `notify` program (a `-c` override in front). The user's
/// own `notify` program (from `user_config`, Codex's config.toml) is kept: Paddock's hook
/// calls it after forwarding the event.
pub fn codex_args(args: &[String], exe: &Path, user_config: Option<&str>) -> Vec<String> {
    let mut notify = vec![
        exe.to_string_lossy().into_owned(),
        "hook".to_owned(),
        "--agent".to_owned(),
        "codex".to_owned(),
    ];
    if let Some(theirs) = user_config.and_then(codex_user_notify) {
        notify.push("--chain".to_owned());
        notify.push(json!(theirs).to_string());
    }
    let notify = json!(notify);
    let mut out = vec!["-c".to_owned(), format!("notify={notify}")];
    out.extend(args.iter().cloned());
    out
}

/// The `notify` program in Codex's config.toml, if one is set.
fn codex_user_notify(config: &str) -> Option<Vec<String>> {
    let table: toml::Table = config.parse().ok()?;
    let list = table.get("notify")?.as_array()?;
    let program: Vec<String> = list
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    (!program.is_empty()).then_some(program)
}

/// Codex's config.toml as this environment has it (`$CODEX_HOME`, else `~/.codex`).
pub fn codex_config(env: &[(String, String)]) -> Option<String> {
    let var = |k: &str| {
        env.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(k).ok())
            .filter(|v| !v.is_empty())
    };
    let home = var("CODEX_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| Path::new(&h).join(".codex")))?;
    std::fs::read_to_string(home.join("config.toml")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_go_in_front_when_the_user_gave_no_settings() {
        let args = claude_args(
            &["--permission-mode".into(), "manual".into()],
            Path::new("/opt/p d/paddock"),
        )
        .expect("args");
        assert_eq!(args[0], "--settings");
        let s: Value = serde_json::from_str(&args[1]).expect("json");
        for e in CLAUDE_EVENTS {
            let cmd = &s["hooks"][e][0]["hooks"][0]["command"];
            assert_eq!(cmd, "'/opt/p d/paddock' hook --agent claude", "{e}");
        }
        assert_eq!(
            s["hooks"]["PermissionRequest"][0]["hooks"][0]["timeout"],
            600
        );
        assert_eq!(&args[2..], ["--permission-mode", "manual"]);
    }

    #[test]
    fn the_users_settings_and_hooks_are_kept() {
        let user = r#"{"model":"x","hooks":{"Stop":[{"matcher":"*","hooks":[{"type":"command","command":"say done"}]}]}}"#;
        let args = claude_args(
            &["-p".into(), format!("--settings={user}"), "hi".into()],
            Path::new("/p"),
        )
        .expect("args");
        assert_eq!(args.len(), 4);
        assert_eq!(args[0], "-p");
        let s: Value = serde_json::from_str(&args[2]).expect("json");
        assert_eq!(s["model"], "x");
        assert_eq!(s["hooks"]["Stop"][0]["hooks"][0]["command"], "say done");
        assert_eq!(
            s["hooks"]["Stop"][1]["hooks"][0]["command"],
            "'/p' hook --agent claude"
        );
        assert_eq!(args[3], "hi");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s.json");
        std::fs::write(&file, user).expect("write");
        let args = claude_args(
            &["--settings".into(), file.display().to_string()],
            Path::new("/p"),
        )
        .expect("args");
        let s: Value = serde_json::from_str(&args[1]).expect("json");
        assert_eq!(s["hooks"]["Stop"].as_array().map(Vec::len), Some(2));
        assert!(claude_args(&["--settings".into(), "{nope".into()], Path::new("/p")).is_err());
    }

    #[test]
    fn codex_gets_a_notify_override_that_keeps_the_users_program() {
        let args = codex_args(&["exec".into(), "hi".into()], Path::new("/p"), None);
        assert_eq!(
            args,
            [
                "-c",
                r#"notify=["/p","hook","--agent","codex"]"#,
                "exec",
                "hi"
            ]
        );
        let config = "model = \"x\"\nnotify = [\"notify-send\", \"Codex\"]\n";
        let args = codex_args(&[], Path::new("/p"), Some(config));
        assert_eq!(
            args[1],
            r#"notify=["/p","hook","--agent","codex","--chain","[\"notify-send\",\"Codex\"]"]"#
        );
    }
}
