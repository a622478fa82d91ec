//! A sandbox in which the real `codex` runs against the fake Responses API, trusting its
//! project and recording what its `notify` program gets.

use super::sandbox::{
    apply_env, files_under, home_env, read_json_dir, write, write_script, Sandbox, FOREIGN_VARS,
};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// A fresh `CODEX_HOME` whose `config.toml` points Codex at the fake's Responses API, trusts
/// the project folder and runs a `notify` program that records each JSON it gets.
/// Removed when dropped.
pub struct CodexSandbox {
    base: Sandbox,
}

/// The environment variable the sandbox's provider reads its key from.
const CODEX_KEY_VAR: &str = "PADDOCK_FAKE_OPENAI_KEY";

impl CodexSandbox {
    /// `api_url` is the fake's [`crate::FakeApi::url`].
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        let dirs = ["home", "codex", "project", "notify", "bin"];
        let sb = Self {
            base: Sandbox::create("pdkx", api_url, &dirs)?,
        };
        let notify = sb.root().join("bin/notify");
        write_script(
            &notify,
            &format!(
                "#!/bin/sh\n# Codex calls this at the end of each turn with a JSON argument (the last one).\n\
                 for last; do :; done\nf=\"{d}/$(date +%s%N)-$$\"\nprintf '%s' \"$last\" > \"$f.part\" && mv \"$f.part\" \"$f.json\"\n",
                d = sb.root().join("notify").display()
            ),
        )?;
        let toml_str = |s: &str| Value::String(s.to_owned()).to_string();
        let config = format!(
            "# Written by paddock-fakeapi's CodexSandbox: offline, against a local fake.\n\
             model = \"gpt-fake\"\n\
             model_provider = \"fake\"\n\
             approval_policy = \"never\"\n\
             sandbox_mode = \"danger-full-access\"\n\
             check_for_update_on_startup = false\n\
             notify = [{notify}]\n\
             \n[model_providers.fake]\n\
             name = \"fake\"\n\
             base_url = {url}\n\
             env_key = \"{CODEX_KEY_VAR}\"\n\
             wire_api = \"responses\"\n\
             request_max_retries = 0\n\
             stream_max_retries = 0\n\
             \n[projects.{project}]\n\
             trust_level = \"trusted\"\n\
             \n# The interactive TUI would otherwise start a shared app-server daemon (its own\n\
             # session, outliving the test) and run turns there; keep everything in-process.\n\
             [features]\n\
             daemon_auto_start = false\n",
            notify = toml_str(&notify.display().to_string()),
            url = toml_str(&format!("{api_url}/v1")),
            project = toml_str(&sb.project().display().to_string()),
        );
        write(&sb.codex_home().join("config.toml"), &config)?;
        Ok(sb)
    }

    /// `CODEX_HOME` (config, sessions, state).
    pub fn codex_home(&self) -> PathBuf {
        self.root().join("codex")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        home_env(
            &self.home(),
            [
                ("CODEX_HOME", self.codex_home().display().to_string()),
                (CODEX_KEY_VAR, "fake-openai-key".into()),
            ],
        )
    }

    pub fn unset(&self) -> &'static [&'static str] {
        FOREIGN_VARS
    }

    /// Sets up `cmd` to run `codex` in this sandbox.
    pub fn apply(&self, cmd: &mut Command) {
        apply_env(cmd, self.unset(), self.env(), &self.project());
    }

    /// Rollout files (`sessions/YYYY/MM/DD/rollout-*.jsonl`) written so far.
    pub fn rollouts(&self) -> Vec<PathBuf> {
        files_under(&self.codex_home().join("sessions"), "jsonl")
    }

    /// The JSON each `notify` call received, in order.
    pub fn notifications(&self) -> Vec<Value> {
        read_json_dir(&self.root().join("notify"))
    }
}

impl std::ops::Deref for CodexSandbox {
    type Target = Sandbox;

    /// The accessors every agent's sandbox shares (root, home, project, hook payloads).
    fn deref(&self) -> &Sandbox {
        &self.base
    }
}
