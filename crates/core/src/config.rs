//! The supervisor's configuration: one typed struct with defaults, then `config.toml` in the
//! config directory, then `PADDOCK_*` environment variables (`PADDOCK_SAMPLE_INTERVAL=2s`,
//! nested keys with a double underscore: `PADDOCK_LOG__KEEP_DAYS=7`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod agents;
mod env;
mod example;
mod server;

pub use agents::AgentsConfig;
use env::{parse_env_value, set_path, NOT_SETTINGS};
pub use example::DEFAULT_CONFIG_TOML;
pub use server::{ServerConfig, MIN_REFRESH_GRACE};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}. `paddock default-config` prints a valid example")]
    Invalid { path: PathBuf, message: String },
    #[error("the environment variable {var} is not valid: {message}")]
    Env { var: String, message: String },
}

/// Everything the supervisor can be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How often sessions' processes are sampled (cpu, memory, liveness).
    #[serde(with = "humantime_serde")]
    pub sample_interval: Duration,
    /// How often the process table and tmux are searched for agents Paddock did not start.
    #[serde(with = "humantime_serde")]
    pub discovery_interval: Duration,
    /// Days of history kept (activity, metrics, ended sessions).
    pub retention_days: u32,
    /// Where the database and logs live (default: the platform's data directory).
    pub data_dir: Option<PathBuf>,
    pub log: LogConfig,
    pub tmux: TmuxConfig,
    pub agents: AgentsConfig,
    pub server: ServerConfig,
    pub notify: crate::notify::config::NotifyConfig,
    // worktrees (issue 16): begin
    pub worktrees: WorktreesConfig,
    // worktrees (issue 16): end
}

// worktrees (issue 16): begin
/// Git worktrees made for sessions (`paddock run --worktree`, see `crate::worktree`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WorktreesConfig {
    /// Where they are made (default: `worktrees` in the data directory).
    pub dir: Option<PathBuf>,
}
// worktrees (issue 16): end

/// The supervisor's own log files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Level filter, e.g. `info` or `info,paddock_core=debug` (`PADDOCK_LOG` overrides).
    pub level: String,
    /// Days of log files kept; older ones are deleted (files older than a day are compressed).
    pub keep_days: u32,
    /// A file past this size is rotated at once, whatever the day.
    pub max_file_bytes: u64,
}

/// tmux discovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TmuxConfig {
    pub enabled: bool,
    /// Start a bridge for every agent pane found, so it can be attached to, typed into and
    /// read like Paddock's own sessions (uses the pane's `pipe-pane`).
    pub bridge: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sample_interval: Duration::from_secs(1),
            discovery_interval: Duration::from_secs(2),
            retention_days: 30,
            data_dir: None,
            log: LogConfig::default(),
            tmux: TmuxConfig::default(),
            agents: AgentsConfig::default(),
            server: ServerConfig::default(),
            notify: Default::default(),
            worktrees: Default::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            keep_days: 30,
            max_file_bytes: 1 << 30,
        }
    }
}

impl Default for TmuxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bridge: true,
        }
    }
}

impl Config {
    /// `config.toml` in the config directory.
    pub fn default_path() -> PathBuf {
        crate::paths::config_dir().join("config.toml")
    }

    /// Defaults, then `path` if it exists, then the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Self::layered(path, text.as_deref(), std::env::vars())
    }

    /// The layering itself, for tests: file text and environment given explicitly.
    pub fn layered(
        path: &Path,
        file: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut table: toml::Table = match file {
            Some(text) => text
                .parse()
                .map_err(|e: toml::de::Error| invalid(e.to_string()))?,
            None => toml::Table::new(),
        };
        // Check the file alone first, so its errors name the file.
        toml::Value::Table(table.clone())
            .try_into::<Config>()
            .map_err(|e| invalid(e.to_string()))?;
        for (var, value) in env {
            let Some(key) = var.strip_prefix("PADDOCK_") else {
                continue;
            };
            if NOT_SETTINGS.contains(&var.as_str()) || key.is_empty() {
                continue;
            }
            let path: Vec<String> = key.split("__").map(|k| k.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, parse_env_value(&value));
            let candidate = toml::Value::Table(table.clone()).try_into::<Config>();
            if let Err(e) = candidate {
                return Err(ConfigError::Env {
                    var,
                    message: e.to_string(),
                });
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| invalid(e.to_string()))
    }

    /// The data directory in use.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(crate::paths::default_data_dir)
    }

    // worktrees (issue 16): begin
    /// The directory sessions' worktrees are made in.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.worktrees
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("worktrees"))
    }
    // worktrees (issue 16): end
}

#[cfg(test)]
mod tests;
