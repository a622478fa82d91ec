//! Where the supervisor keeps its configuration, data and logs.
//!
//! Config: `$PADDOCK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/paddock`, else `~/.config/paddock`
//! (`~/Library/Application Support/Paddock` on macOS). Data (SQLite, logs): the config's
//! `data_dir`, else `$PADDOCK_DATA_DIR`, else `$XDG_DATA_HOME/paddock`, else
//! `~/.local/share/paddock` (the same Application Support folder on macOS).

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// The configuration directory.
pub fn config_dir() -> PathBuf {
    if let Some(d) = env_dir("PADDOCK_CONFIG_DIR") {
        return d;
    }
    if cfg!(target_os = "macos") {
        return home().join("Library/Application Support/Paddock");
    }
    env_dir("XDG_CONFIG_HOME")
        .unwrap_or_else(|| home().join(".config"))
        .join("paddock")
}

/// The default data directory (when the configuration does not set one).
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = env_dir("PADDOCK_DATA_DIR") {
        return d;
    }
    if cfg!(target_os = "macos") {
        return home().join("Library/Application Support/Paddock");
    }
    env_dir("XDG_DATA_HOME")
        .unwrap_or_else(|| home().join(".local/share"))
        .join("paddock")
}
