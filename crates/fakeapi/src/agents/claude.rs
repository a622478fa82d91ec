//! A sandbox in which the real `claude` starts at its prompt against the fake Messages API,
//! every hook payload recorded and its permission requests answered by the test.

use super::sandbox::{
    apply_env, files_under, home_env, record_stdin_script, write, write_atomic, write_script,
    Sandbox, FOREIGN_VARS,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

/// The Claude Code hook events (2.1.328) that matter for a session's state; the recording settings
/// hook them all.
pub const CLAUDE_HOOK_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "Notification",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionDenied",
    "TaskCreated",
    "TaskCompleted",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "SessionEnd",
];

/// A fresh HOME and project folder in which the real `claude` starts straight at its prompt,
/// talking to the fake API. Removed when dropped.
///
/// Layout: `home/` (with `.claude.json`), `project/` (the cwd, trusted), `hooks/` (one JSON
/// file per hook payload), `bin/` (the hook scripts).
pub struct ClaudeSandbox {
    base: Sandbox,
    api_key: String,
    task_tools: bool,
}

impl ClaudeSandbox {
    /// `api_url` is the fake's [`crate::FakeApi::url`].
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        let dirs = ["home", "project", "hooks", "bin", "decisions"];
        let sb = Self {
            base: Sandbox::create("pdkc", api_url, &dirs)?,
            api_key: "sk-ant-api03-paddock-fake-key-0123456789abcdefghij".to_owned(),
            task_tools: false,
        };
        let project = sb.project();
        let key_tail: String = {
            let chars: Vec<char> = sb.api_key.chars().collect();
            chars[chars.len().saturating_sub(20)..].iter().collect()
        };
        let mut projects = serde_json::Map::new();
        projects.insert(
            project.display().to_string(),
            json!({"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true}),
        );
        let config = json!({
            "hasCompletedOnboarding": true,
            "lastOnboardingVersion": crate::agents::claude_code_version(),
            "customApiKeyResponses": {"approved": [key_tail], "rejected": []},
            "projects": projects,
        });
        write(&sb.home().join(".claude.json"), &config.to_string())?;
        let hooks = sb.root().join("hooks");
        write_script(
            &sb.root().join("bin/record-hook"),
            &record_stdin_script(&hooks),
        )?;
        let decisions = sb.root().join("decisions");
        write_script(
            &sb.root().join("bin/decide-permission"),
            &format!(
                "#!/bin/sh\n# Records the PermissionRequest payload, then waits (up to 10 minutes) for the\n\
                 # test to leave a decision in {d}/next.json, takes it and prints it. Hooks run in\n\
                 # a session of their own, so killing the agent leaves this running: it stops as\n\
                 # soon as the sandbox is gone (the test ended).\n\
                 \"{rec}\"\ni=0\nwhile ! mv \"{d}/next.json\" \"{d}/used-$$.json\" 2>/dev/null; do\n\
                 \x20 [ -d \"{d}\" ] || exit 0\n\
                 \x20 i=$((i+1)); [ $i -gt 12000 ] && exit 0\n  sleep 0.05\ndone\ncat \"{d}/used-$$.json\"\n",
                d = decisions.display(),
                rec = sb.root().join("bin/record-hook").display()
            ),
        )?;
        Ok(sb)
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Where Claude Code writes its transcripts (`~/.claude/projects`).
    pub fn transcripts_dir(&self) -> PathBuf {
        self.home().join(".claude/projects")
    }

    /// Where the interactive CLI keeps its per-process status files.
    pub fn status_dir(&self) -> PathBuf {
        self.home().join(".claude/sessions")
    }

    /// Variables to set for `claude`.
    pub fn env(&self) -> Vec<(String, String)> {
        let extra = [
            ("ANTHROPIC_API_KEY", self.api_key.clone()),
            ("ANTHROPIC_BASE_URL", self.api_url().to_owned()),
            // Without it the TUI first checks that Anthropic's servers are reachable.
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
        ];
        let todo_tools = self.task_tools.then(|| {
            // 2.1.328 offers its task-list tools (TaskCreate, TaskUpdate, TaskList, TaskGet:
            // deferred, announced for loading with ToolSearch) only to some models; this
            // offers them to every model.
            ("CLAUDE_CODE_ENABLE_TODO_TOOLS", "true".to_owned())
        });
        home_env(&self.home(), extra.into_iter().chain(todo_tools))
    }

    /// Offers Claude Code's task-list tools to the model, so a script can drive a task list.
    /// Off by default: it changes the CLI's timing (see docs/agents-offline.md).
    pub fn with_task_tools(mut self) -> Self {
        self.task_tools = true;
        self
    }

    /// Variables to remove from the inherited environment.
    pub fn unset(&self) -> &'static [&'static str] {
        FOREIGN_VARS
    }

    /// Sets up `cmd` (e.g. a `paddock run` whose holder passes its environment on) to run
    /// `claude` in this sandbox.
    pub fn apply(&self, cmd: &mut Command) {
        apply_env(cmd, self.unset(), self.env(), &self.project());
    }

    /// `--settings` JSON hooking every event to a recorder ([`Self::hook_payloads`]); the
    /// PermissionRequest hook then waits for [`Self::allow_next`] / [`Self::deny_next`]
    /// (or gives up after 10 minutes, leaving the prompt to the terminal).
    pub fn recording_settings(&self) -> String {
        let record = self.root().join("bin/record-hook").display().to_string();
        let decide = self
            .root()
            .join("bin/decide-permission")
            .display()
            .to_string();
        let mut hooks = serde_json::Map::new();
        for event in CLAUDE_HOOK_EVENTS {
            let command = if *event == "PermissionRequest" {
                &decide
            } else {
                &record
            };
            hooks.insert(
                (*event).to_owned(),
                json!([{"matcher": "*", "hooks": [{"type": "command", "command": command, "timeout": 600}]}]),
            );
        }
        json!({"hooks": hooks}).to_string()
    }

    fn decide(&self, decision: Value) -> std::io::Result<()> {
        let out = json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}});
        write_atomic(&self.root().join("decisions/next.json"), &out.to_string())
    }

    /// The waiting (or next) PermissionRequest hook answers "allow".
    pub fn allow_next(&self) -> std::io::Result<()> {
        self.decide(json!({"behavior": "allow"}))
    }

    /// The waiting (or next) PermissionRequest hook answers "deny" with `message` for the agent.
    pub fn deny_next(&self, message: &str) -> std::io::Result<()> {
        self.decide(json!({"behavior": "deny", "message": message}))
    }

    /// Transcript files (`*.jsonl`) written so far.
    pub fn transcripts(&self) -> Vec<PathBuf> {
        files_under(&self.transcripts_dir(), "jsonl")
    }
}

impl std::ops::Deref for ClaudeSandbox {
    type Target = Sandbox;

    /// The accessors every agent's sandbox shares (root, home, project, hook payloads).
    fn deref(&self) -> &Sandbox {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_sandbox_approves_the_key_and_trusts_the_project() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        let cfg: Value =
            serde_json::from_slice(&std::fs::read(sb.home().join(".claude.json")).expect("config"))
                .expect("json");
        assert_eq!(cfg["hasCompletedOnboarding"], true);
        let tail = &sb.api_key()[sb.api_key().len() - 20..];
        assert_eq!(cfg["customApiKeyResponses"]["approved"][0], tail);
        let project = sb.project().display().to_string();
        assert_eq!(cfg["projects"][&project]["hasTrustDialogAccepted"], true);
        let settings: Value = serde_json::from_str(&sb.recording_settings()).expect("settings");
        for e in CLAUDE_HOOK_EVENTS {
            assert!(settings["hooks"][e].is_array(), "{e} not hooked");
        }
    }

    #[test]
    fn the_recording_hook_keeps_each_payload_and_the_decision_hook_prints_the_decision() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        let run = |script: &str, input: &str| {
            use std::io::Write;
            let mut child = Command::new(sb.root().join("bin").join(script))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("hook script");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write");
            child.wait_with_output().expect("wait")
        };
        run("record-hook", r#"{"hook_event_name":"Stop"}"#);
        sb.deny_next("not today").expect("decision");
        let out = run(
            "decide-permission",
            r#"{"hook_event_name":"PermissionRequest"}"#,
        );
        let printed: Value = serde_json::from_slice(&out.stdout).expect("decision json");
        assert_eq!(
            printed["hookSpecificOutput"]["decision"]["behavior"],
            "deny"
        );
        assert_eq!(
            printed["hookSpecificOutput"]["decision"]["message"],
            "not today"
        );
        let events: Vec<Value> = sb
            .hook_payloads()
            .iter()
            .map(|p| p["hook_event_name"].clone())
            .collect();
        assert_eq!(events, vec![json!("Stop"), json!("PermissionRequest")]);
    }

    #[test]
    fn a_waiting_permission_hook_ends_when_the_sandbox_is_dropped() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        let mut child = Command::new(sb.root().join("bin/decide-permission"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("hook script");
        // It waits for a decision that never comes...
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(child.try_wait().expect("wait").is_none(), "it did not wait");
        // ...until the test's sandbox goes away.
        drop(sb);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the hook outlived its sandbox"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(status.success());
        let out = child.wait_with_output().expect("output");
        assert!(
            out.stdout.is_empty(),
            "it printed a decision: {:?}",
            out.stdout
        );
    }
}
