//! `paddock doctor` as a user runs it: in a shell that a parent Claude Code left its variables
//! in, without and with a supervisor, as text and as JSON, with its exit code; and its Gemini
//! CLI checks against the pinned real CLI.

mod common;

use common::*;
use serde_json::Value;

const NESTED: &[(&str, &str)] = &[
    ("CLAUDECODE", "1"),
    ("CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR", "3"),
];

fn doctor(env: &Env, args: &[&str]) -> std::process::Output {
    env.cmd()
        .envs(NESTED.iter().copied())
        .arg("doctor")
        .args(args)
        .output()
        .expect("paddock doctor")
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

#[test]
fn doctor_in_a_shell_inside_claude_code_names_both_variables_and_what_to_do() {
    let env = Env::new();
    let _sup = env.up();
    let out = doctor(&env, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .position(|l| l.contains("CLAUDECODE"))
        .unwrap_or_else(|| panic!("CLAUDECODE is not named:\n{text}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[line].starts_with("! "), "{text}");
    assert!(
        lines[line].contains("CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR"),
        "{text}"
    );
    assert!(
        lines[line + 1].contains("unset CLAUDECODE CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR"),
        "the next line says what to do:\n{text}"
    );
    // Paddock copes with them, and the rest is healthy: a warning is not a failure.
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("✓ Supervisor"), "{text}");
    assert!(
        text.contains("✓ Agent hooks: a test event went to the supervisor"),
        "{text}"
    );
}

#[test]
fn doctor_json_has_every_check_and_a_missing_supervisor_is_broken_with_exit_1() {
    let env = Env::new();
    let out = doctor(&env, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["status"], "fail", "{report:#}");
    for id in [
        "env.login",
        "agent.claude",
        "agent.codex",
        "agent.gemini",
        "env.nested",
        "tmux",
        "runtime_dir",
        "supervisor",
        "hooks",
        "endpoint",
        "disk",
        "open_files",
    ] {
        let c = check(&report, id);
        assert!(c["title"].is_string() && c["detail"].is_string(), "{c}");
        assert!(
            ["ok", "warn", "fail"].contains(&c["status"].as_str().unwrap_or("")),
            "{c}"
        );
    }
    let sup = check(&report, "supervisor");
    assert_eq!(sup["status"], "fail", "{sup}");
    assert!(
        sup["fix"]
            .as_str()
            .is_some_and(|f| f.contains("paddock up")),
        "{sup}"
    );
    let nested = check(&report, "env.nested");
    let detail = nested["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("CLAUDECODE")
            && detail.contains("CLAUDE_CODE_WEBSOCKET_AUTH_FILE_DESCRIPTOR"),
        "{nested}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Supervisor"),
        "the error names what is broken: {stderr}"
    );
}

// --- begin: Gemini CLI (issue 15, item 4) ---
/// The Gemini checks of `paddock doctor` (core's one implementation) for an owner whose
/// login environment is `vars` (HOME a fresh folder; PATH this test's own plus `extra`).
fn gemini_checks(
    home: &std::path::Path,
    extra: Option<&std::path::Path>,
    vars: &[(&str, &str)],
) -> (
    paddock_proto::doctor::DoctorCheck,
    Option<paddock_proto::doctor::DoctorCheck>,
) {
    let own_path = std::env::var("PATH").unwrap_or_default();
    // The pinned `gemini` is a Node script: `node` stays on PATH; a `gemini` elsewhere on
    // it would be found only after `extra`, and is kept out when there is none.
    let path = match extra {
        Some(dir) => format!("{}:{own_path}", dir.display()),
        None => std::env::split_paths(&own_path)
            .filter(|d| !d.join("gemini").exists())
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(":"),
    };
    let mut env = vec![
        ("PATH".to_owned(), path),
        ("HOME".to_owned(), home.display().to_string()),
    ];
    env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let report = paddock_core::doctor::run(&paddock_core::doctor::Inputs {
        env: env.clone(),
        login_env: Some(env),
        login_env_error: None,
        runtime_dir: home.join("runtime"),
        data_dir: home.join("data"),
        supervisor: None,
        keep_nested_env: false,
    });
    let take = |id: &str| report.checks.iter().find(|c| c.id == id).cloned();
    let agent = take("agent.gemini").unwrap_or_else(|| panic!("no Gemini check: {report:#?}"));
    (agent, take("auth.gemini"))
}

#[test]
fn doctor_finds_the_pinned_gemini_cli_and_names_its_key_never_its_value() {
    use paddock_proto::doctor::CheckStatus;
    let gemini = paddock_fakeapi::agents::gemini_bin().unwrap_or_else(|e| panic!("{e}"));
    let bin = gemini.parent().expect("the CLI's folder");
    let home = tempfile::tempdir().expect("tempdir");
    let secret = "AIza-very-secret-value";
    let (agent, auth) = gemini_checks(home.path(), Some(bin), &[("GEMINI_API_KEY", secret)]);
    let auth = auth.expect("an installed CLI's authentication is checked");
    let pinned = paddock_fakeapi::agents::gemini_cli_version();
    assert_eq!(agent.status, CheckStatus::Ok, "{agent:?}");
    assert!(
        agent.detail.starts_with(&format!("{pinned} at "))
            && agent.detail.ends_with(&format!("tested with {pinned}")),
        "{agent:?}"
    );
    assert_eq!(auth.status, CheckStatus::Ok, "{auth:?}");
    assert!(
        auth.detail.contains("GEMINI_API_KEY") && !auth.detail.contains(secret),
        "{auth:?}"
    );

    // No key: the "Login with Google" credentials in GEMINI_CLI_HOME's .gemini count.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let creds = elsewhere.path().join(".gemini");
    std::fs::create_dir_all(&creds).expect("mkdir");
    std::fs::write(creds.join("oauth_creds.json"), "{}").expect("creds");
    let cli_home = elsewhere.path().display().to_string();
    let (_, auth) = gemini_checks(home.path(), Some(bin), &[("GEMINI_CLI_HOME", &cli_home)]);
    let auth = auth.expect("checked");
    assert_eq!(auth.status, CheckStatus::Ok, "{auth:?}");
    assert!(auth.detail.contains("oauth_creds.json"), "{auth:?}");

    // Neither: a warning that says how to log in.
    let (_, auth) = gemini_checks(home.path(), Some(bin), &[]);
    let auth = auth.expect("checked");
    assert_eq!(auth.status, CheckStatus::Warn, "{auth:?}");
    assert!(
        auth.fix
            .as_deref()
            .is_some_and(|f| f.contains("`gemini`") && f.contains("GEMINI_API_KEY")),
        "{auth:?}"
    );
}

#[test]
fn doctor_without_gemini_on_the_path_says_how_to_install_it() {
    use paddock_proto::doctor::CheckStatus;
    let home = tempfile::tempdir().expect("tempdir");
    let (agent, auth) = gemini_checks(home.path(), None, &[]);
    assert!(
        auth.is_none(),
        "no authentication check without the CLI: {auth:?}"
    );
    assert_eq!(agent.status, CheckStatus::Warn, "{agent:?}");
    assert!(
        agent.detail.contains("not on the owner's PATH"),
        "{agent:?}"
    );
    assert!(
        agent
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("@google/gemini-cli") && f.contains("Node.js 20")),
        "{agent:?}"
    );
}
// --- end: Gemini CLI ---
