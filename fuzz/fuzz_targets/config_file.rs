//! Loads arbitrary bytes as `config.toml`, as `paddock up` does: written to a file, then
//! [`Config::load`] (defaults, then the file, then `PADDOCK_*` variables, of which this
//! process has none: they are removed at start so that the file alone decides).
//!
//! Properties: nothing panics; a file that cannot be used gives an error that names the
//! file (so the person knows which file to fix) and is about the file, not the environment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock_core::config::{Config, ConfigError};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The file each input is written to (one per process, in a directory of its own).
fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("PADDOCK_") {
                std::env::remove_var(var);
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("paddock-fuzz-config-")
            .tempdir()
            .expect("a temporary directory");
        // Kept for the whole run: libFuzzer ends the process without running destructors.
        dir.keep().join("config.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    std::fs::write(path, data).expect("writing config.toml");
    let Err(e) = Config::load(path) else {
        return;
    };
    let shown = e.to_string();
    assert!(
        shown.contains(&path.display().to_string()),
        "the error does not name the file: {shown}"
    );
    assert!(
        matches!(e, ConfigError::Read { .. } | ConfigError::Invalid { .. }),
        "an error about the environment for a file's content: {shown}"
    );
});
