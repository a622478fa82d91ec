//! `paddock doctor` as a user runs it: in a shell that a parent Claude Code left its variables
//! in, without and with a supervisor, as text and as JSON, with its exit code.

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
