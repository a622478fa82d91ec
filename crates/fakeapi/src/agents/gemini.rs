//! A sandbox in which the real `gemini` (Gemini CLI) starts at its prompt against the fake
//! Gemini API, every hook payload recorded (issue 15, item 4).

use super::sandbox::{
    apply_env, home_env, record_stdin_script, write, write_script, Sandbox, FOREIGN_VARS,
};
use serde_json::{json, Value};
use std::process::Command;

/// Variables that would send Gemini CLI elsewhere (another key, Vertex AI, a login, another
/// home); the sandbox removes them.
const GEMINI_FOREIGN_VARS: &[&str] = &[
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_VERTEX_BASE_URL",
    "GEMINI_CLI_HOME",
    "GEMINI_MODEL",
    "GEMINI_SANDBOX",
    "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
    "GEMINI_CLI_SYSTEM_DEFAULTS_PATH",
    "CLOUD_SHELL",
];

/// The Gemini CLI (0.61.0) hook events that matter for a session's state; the sandbox hooks
/// them all.
pub const GEMINI_HOOK_EVENTS: &[&str] = &[
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "Notification",
    "SessionEnd",
];

/// A fresh HOME and project folder in which the real `gemini` starts straight at its prompt,
/// offline, talking to the fake's Gemini API (`GOOGLE_GEMINI_BASE_URL`, an API key), with
/// its settings turning off what would reach the network (telemetry, usage statistics,
/// update checks, the IDE companion) and the first-run questions (auth type chosen, folder
/// trust off), and every hook payload recorded. Removed when dropped.
///
/// Layout: `home/.gemini/settings.json`, `project/` (the cwd), `hooks/` (one JSON file per
/// hook payload), `bin/` (the recorder).
pub struct GeminiSandbox {
    base: Sandbox,
}

impl GeminiSandbox {
    /// `api_url` is the fake's [`crate::FakeApi::url`].
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        Self::with_hook(api_url, None)
    }

    /// Like [`GeminiSandbox::new`], and each hook event also goes to `command` (e.g.
    /// `paddock hook --agent gemini`, as an owner's settings would have it).
    pub fn with_hook(api_url: &str, command: Option<&str>) -> std::io::Result<Self> {
        let dirs = ["home/.gemini", "project", "hooks", "bin"];
        let sb = Self {
            base: Sandbox::create("pdkg", api_url, &dirs)?,
        };
        let recorder = sb.root().join("bin/record-hook");
        write_script(&recorder, &record_stdin_script(&sb.root().join("hooks")))?;
        let recorder = recorder.display().to_string();
        let hooks: serde_json::Map<String, Value> = GEMINI_HOOK_EVENTS
            .iter()
            .map(|e| {
                let mut list =
                    vec![json!({"type": "command", "command": recorder, "timeout": 10_000})];
                if let Some(c) = command {
                    list.push(json!({"type": "command", "command": c, "timeout": 10_000}));
                }
                ((*e).to_owned(), json!([{"hooks": list}]))
            })
            .collect();
        let settings = json!({
            "security": {
                "auth": {"selectedType": "gemini-api-key"},
                "folderTrust": {"enabled": false},
            },
            "general": {"disableAutoUpdate": true, "disableUpdateNag": true},
            "privacy": {"usageStatisticsEnabled": false},
            "telemetry": {"enabled": false},
            "ide": {"enabled": false},
            "hooks": hooks,
        });
        write(
            &sb.home().join(".gemini/settings.json"),
            &serde_json::to_string_pretty(&settings).unwrap_or_default(),
        )?;
        Ok(sb)
    }

    pub fn env(&self) -> Vec<(String, String)> {
        home_env(
            &self.home(),
            [
                ("GEMINI_API_KEY", "fake-gemini-key".into()),
                ("GOOGLE_GEMINI_BASE_URL", self.api_url().to_owned()),
            ],
        )
    }

    /// The variables to remove from the environment `gemini` inherits (a CI runner's, or
    /// ones that send it elsewhere).
    pub fn unset(&self) -> Vec<&'static str> {
        FOREIGN_VARS
            .iter()
            .chain(GEMINI_FOREIGN_VARS)
            .copied()
            .collect()
    }

    /// Sets up `cmd` to run `gemini` in this sandbox.
    pub fn apply(&self, cmd: &mut Command) {
        apply_env(cmd, &self.unset(), self.env(), &self.project());
    }
}

impl std::ops::Deref for GeminiSandbox {
    type Target = Sandbox;

    /// The accessors every agent's sandbox shares (root, home, project, hook payloads).
    fn deref(&self) -> &Sandbox {
        &self.base
    }
}
