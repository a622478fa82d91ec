//! Secrets from a channel's section: inline (`token = "..."`) or from a file of their own
//! (`token_file = "..."`, better: `config.toml` then holds no secret). A file others can read
//! is used, with a warning that says how to fix it.

use crate::SetupError;
use paddock_core::notify::config::Secret;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The secret named by `inline` or `file` (the file wins); `None` when neither is given.
pub fn load(
    channel: &'static str,
    what: &str,
    inline: &Secret,
    file: Option<&Path>,
) -> Result<Option<Secret>, SetupError> {
    let Some(path) = file else {
        return Ok((!inline.is_empty()).then(|| inline.clone()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        SetupError::new(
            channel,
            format!("{what}_file {} cannot be read: {e}", path.display()),
        )
    })?;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %path.display(), "a notification secret is readable by other users; `chmod 600` it");
        }
    }
    let value = text.trim();
    if value.is_empty() {
        return Err(SetupError::new(
            channel,
            format!("{what}_file {} is empty", path.display()),
        ));
    }
    Ok(Some(Secret::new(value)))
}

/// Like [`load`], for a secret the channel cannot work without.
pub fn require(
    channel: &'static str,
    what: &str,
    inline: &Secret,
    file: Option<&Path>,
) -> Result<Secret, SetupError> {
    load(channel, what, inline, file)?.ok_or_else(|| {
        SetupError::new(
            channel,
            format!("needs `{what}_file = \"<path>\"` (a file holding it, mode 0600) or `{what}`"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_wins_over_inline_and_an_empty_or_missing_one_says_which() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("t");
        std::fs::write(&f, "tk_file\n").expect("write");
        let got = require("ntfy", "token", &Secret::new("inline"), Some(&f)).expect("loaded");
        assert_eq!(got.expose(), "tk_file");
        assert_eq!(
            load("ntfy", "token", &Secret::new("x"), None)
                .expect("inline")
                .map(|s| s.expose().to_owned()),
            Some("x".into())
        );
        let missing = require("ntfy", "token", &Secret::default(), None).expect_err("none");
        assert!(missing.to_string().contains("token_file"), "{missing}");
        std::fs::write(&f, "  \n").expect("write");
        let empty = require("ntfy", "token", &Secret::default(), Some(&f)).expect_err("empty");
        assert!(empty.to_string().contains("is empty"), "{empty}");
    }
}
