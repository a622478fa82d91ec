//! Records the commit a binary is built from (`BUILD_GIT_COMMIT`, empty outside a git
//! checkout), so a supervisor can say exactly which build it is (`paddock status`) and a newer
//! `paddock up` can tell it apart from its own build when it replaces it. The build scripts of
//! the binaries (`paddock`, the desktop app) include it; each hands the commit to
//! `paddock_core::upgrade::record_commit` at start. Only the binaries record it: in a library
//! it would rebuild that library and everything above it after every commit.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Sets `BUILD_GIT_COMMIT` for the crate being built and asks cargo to run the build script
/// again when HEAD moves (the build script names its own files).
pub fn record() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=BUILD_GIT_COMMIT={commit}");
    // Build again when HEAD moves: HEAD itself (a checkout), the branch it names (a commit),
    // and packed refs.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name]) {
            let path = PathBuf::from(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}
