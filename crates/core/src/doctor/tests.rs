//! Tests of the doctor's checks on what they are given.

use super::agents::{auth_check, version_in};
use super::*;

#[test]
fn versions_are_found_in_what_agents_print() {
    assert_eq!(
        version_in("2.1.328 (Claude Code)").as_deref(),
        Some("2.1.328")
    );
    assert_eq!(version_in("codex-cli 0.169.0").as_deref(), Some("0.169.0"));
    assert_eq!(version_in("tmux 3.4").as_deref(), Some("3.4"));
    assert_eq!(version_in("no version here"), None);
    assert!(tested_version("CLAUDE_CODE_VERSION").is_some());
    assert_eq!(
        version_in("0.61.0").as_deref(),
        tested_version("GEMINI_CLI_VERSION"),
        "gemini --version prints the bare version"
    );
}

#[test]
fn a_world_readable_runtime_dir_is_broken_and_says_how_to_fix_it() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("rt");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let c = runtime_dir_check(&dir);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(
        c.fix.as_deref().is_some_and(|f| f.contains("chmod 700")),
        "{c:?}"
    );
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert_eq!(runtime_dir_check(&dir).status, CheckStatus::Ok);
}

#[test]
fn authentication_is_named_by_its_source_never_its_value() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().display().to_string();
    let secret = "sk-ant-very-secret-value";
    let env = vec![
        ("HOME".to_owned(), home.clone()),
        ("ANTHROPIC_API_KEY".to_owned(), secret.to_owned()),
    ];
    let c = auth_check(&AGENTS[0], &env, &[]);
    assert_eq!(c.status, CheckStatus::Ok);
    assert!(
        c.detail.contains("ANTHROPIC_API_KEY") && !c.detail.contains(secret),
        "{c:?}"
    );
    let bare = vec![("HOME".to_owned(), home)];
    let c = auth_check(&AGENTS[0], &bare, &[]);
    assert_eq!(c.status, CheckStatus::Warn, "{c:?}");
    assert!(c.fix.is_some());
}
