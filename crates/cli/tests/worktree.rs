//! Worktrees for sessions over real git, real holders and a real `paddock up`:
//! `paddock run --worktree`, REST's `worktree`, the git state in `show`, `ls` and REST, and
//! `paddock worktree ls|rm` with its refusals.

mod common;
#[path = "common/web.rs"]
mod web;

use common::{wait_until, Env};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Runs git in `dir` with a fixed identity (a fresh CI machine has none); its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository with one commit on `main` (a README and a `src` folder).
fn repo(env: &Env) -> PathBuf {
    let dir = env.dir().join("repo");
    std::fs::create_dir_all(dir.join("src")).expect("repo dir");
    git(&dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README"), "hello\n").expect("readme");
    std::fs::write(dir.join("src/lib.rs"), "fn main() {}\n").expect("lib");
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "first"]);
    dir
}

/// The `ls --json` row of session `id`.
fn row(env: &Env, id: &str) -> Value {
    env.ls()
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("session {id} is not listed"))
}

/// `paddock worktree ls --json`.
fn worktrees(env: &Env) -> Vec<Value> {
    serde_json::from_str(&env.ok(&["worktree", "ls", "--json"])).expect("worktree ls json")
}

/// stderr of a `paddock` run that must fail.
fn refused(env: &Env, args: &[&str]) -> String {
    let out = env.paddock(args);
    assert!(
        !out.status.success(),
        "paddock {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn run_worktree_starts_the_agent_in_a_new_worktree_on_a_branch_named_after_the_session() {
    let env = Env::new();
    let repo = repo(&env);
    // Started from a sub-folder: the agent starts in the same sub-folder of its worktree.
    let src = repo.join("src");
    let id = env.run(
        &[
            "--name",
            "fixer",
            "--worktree",
            "--cwd",
            src.to_str().expect("utf-8"),
        ],
        &["sleep", "60"],
    );
    let root = env.dir().join("data/worktrees");
    let rows = worktrees(&env);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let w = &rows[0];
    assert_eq!(w["session"], id.as_str());
    assert_eq!(w["branch"], "paddock/fixer");
    assert_eq!(w["base"], "main");
    assert_eq!(w["session_state"], "running");
    let path = PathBuf::from(w["path"].as_str().expect("path"));
    assert!(path.starts_with(&root), "{path:?} is not under {root:?}");
    // git knows it as a worktree of the repository, on the new branch.
    let list = git(&repo, &["worktree", "list", "--porcelain"]);
    assert!(
        list.contains(&format!("worktree {}", path.display()))
            && list.contains("branch refs/heads/paddock/fixer"),
        "{list}"
    );
    // The session's folder, and the agent's real working directory, are in it.
    let r = row(&env, &id);
    assert_eq!(r["cwd"], path.join("src").display().to_string());
    let pid = r["pid"].as_u64().expect("pid");
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).expect("the agent's cwd");
    assert_eq!(cwd, path.join("src"));
    // The repository's own folder is untouched: still on main.
    assert_eq!(git(&repo, &["branch", "--show-current"]).trim(), "main");

    // A given branch that exists is checked out; a new one is made.
    git(&repo, &["branch", "feature"]);
    let id2 = env.run(
        &[
            "--worktree",
            "feature",
            "--cwd",
            repo.to_str().expect("utf-8"),
        ],
        &["sleep", "60"],
    );
    let r2 = row(&env, &id2);
    let cwd2 = PathBuf::from(r2["cwd"].as_str().expect("cwd"));
    assert_eq!(git(&cwd2, &["branch", "--show-current"]).trim(), "feature");
}

#[test]
fn worktree_errors_say_what_is_wrong_and_start_nothing() {
    let env = Env::new();
    let repo = repo(&env);
    let repo_s = repo.to_str().expect("utf-8");
    let plain = env.dir().join("plain");
    std::fs::create_dir_all(&plain).expect("plain dir");
    let msg = refused(
        &env,
        &[
            "run",
            "--worktree",
            "--cwd",
            plain.to_str().expect("utf-8"),
            "--",
            "true",
        ],
    );
    assert!(msg.contains("is not inside a git repository"), "{msg}");
    let empty = env.dir().join("empty");
    std::fs::create_dir_all(&empty).expect("empty dir");
    git(&empty, &["init", "-q"]);
    let msg = refused(
        &env,
        &[
            "run",
            "--worktree",
            "--cwd",
            empty.to_str().expect("utf-8"),
            "--",
            "true",
        ],
    );
    assert!(msg.contains("has no commit yet"), "{msg}");
    // main is checked out in the repository's own folder: git allows it once.
    let msg = refused(
        &env,
        &["run", "--worktree", "main", "--cwd", repo_s, "--", "true"],
    );
    assert!(
        msg.contains("branch `main` is checked out in") && msg.contains(repo_s),
        "{msg}"
    );
    let msg = refused(
        &env,
        &[
            "run",
            "--worktree",
            "bad..name",
            "--cwd",
            repo_s,
            "--",
            "true",
        ],
    );
    assert!(msg.contains("cannot be a branch name"), "{msg}");
    // The default branch of a session name whose branch exists already.
    git(&repo, &["branch", "paddock/twice"]);
    let msg = refused(
        &env,
        &[
            "run",
            "--name",
            "twice",
            "--worktree",
            "--cwd",
            repo_s,
            "--",
            "true",
        ],
    );
    assert!(
        msg.contains("a branch `paddock/twice` exists already"),
        "{msg}"
    );
    // A program that cannot start leaves no worktree or branch behind.
    let msg = refused(
        &env,
        &[
            "run",
            "--name",
            "ghost",
            "--worktree",
            "--cwd",
            repo_s,
            "--",
            "no-such-program-xyz",
        ],
    );
    assert!(msg.contains("no-such-program-xyz"), "{msg}");
    assert!(env.ls().is_empty(), "no session started");
    assert!(worktrees(&env).is_empty(), "no worktree left");
    let branches = git(&repo, &["branch", "--list", "paddock/ghost"]);
    assert!(branches.trim().is_empty(), "{branches}");
    assert_eq!(git(&repo, &["worktree", "list"]).lines().count(), 1);
}

#[test]
fn worktree_rm_refuses_a_running_session_then_dirty_then_unmerged_work_and_removes_when_forced() {
    let env = Env::new();
    let repo = repo(&env);
    let repo_s = repo.to_str().expect("utf-8");
    let id = env.run(
        &["--name", "busy", "--worktree", "--cwd", repo_s],
        &["sleep", "60"],
    );
    let path = PathBuf::from(row(&env, &id)["cwd"].as_str().expect("cwd"));
    // Never under a running agent, even forced.
    for args in [
        vec!["worktree", "rm", "busy"],
        vec!["worktree", "rm", "busy", "--force"],
    ] {
        let msg = refused(&env, &args);
        assert!(msg.contains("still runs") && msg.contains(&id), "{msg}");
    }
    assert!(path.is_dir());
    env.ok(&["kill", &id]);
    wait_until("the session exited", Duration::from_secs(10), || {
        worktrees(&env)[0]["session_state"] != "running"
    });
    // Uncommitted work.
    std::fs::write(path.join("notes.txt"), "one\ntwo\n").expect("write");
    let msg = refused(&env, &["worktree", "rm", "busy"]);
    assert!(msg.contains("1 uncommitted change"), "{msg}");
    assert_eq!(worktrees(&env)[0]["dirty"], 1);
    // Committed, but main lacks it.
    git(&path, &["add", "notes.txt"]);
    git(&path, &["commit", "-q", "-m", "notes"]);
    let msg = refused(&env, &["worktree", "rm", "paddock/busy"]);
    assert!(
        msg.contains("1 commit(s) that `main` does not have"),
        "{msg}"
    );
    assert_eq!(worktrees(&env)[0]["unmerged"], 1);
    // Forced: the folder and the branch Paddock made are gone.
    let out = env.ok(&["worktree", "rm", "busy", "--force"]);
    assert!(out.contains("branch paddock/busy deleted"), "{out}");
    assert!(!path.exists());
    assert!(git(&repo, &["branch", "--list", "paddock/busy"])
        .trim()
        .is_empty());
    assert!(worktrees(&env).is_empty());

    // Merged work goes without --force; a branch Paddock did not make stays.
    git(&repo, &["branch", "topic"]);
    let id = env.run(&["--worktree", "topic", "--cwd", repo_s], &["true"]);
    wait_until("the session exited", Duration::from_secs(10), || {
        worktrees(&env)[0]["session_state"] != "running"
    });
    let out = env.ok(&["worktree", "rm", &id]);
    assert!(out.contains("branch topic kept"), "{out}");
    assert!(!git(&repo, &["branch", "--list", "topic"]).trim().is_empty());
    let msg = refused(&env, &["worktree", "rm", &id]);
    assert!(msg.contains("no worktree made by Paddock matches"), "{msg}");
}

#[tokio::test]
async fn show_ls_and_rest_report_the_branch_and_diff_stat_of_what_the_agent_wrote() {
    let env = Env::new();
    let repo = repo(&env);
    let (_sup, web) = web::up(&env);
    let token = web.token(&env, "operator").await;
    let body = json!({
        "command": ["sh", "-c", "printf 'a\\nb\\nc\\n' > notes.txt; echo 'fn lib() {}' >> src/lib.rs; exec sleep 60"],
        "name": "writer",
        "cwd": repo.display().to_string(),
        "worktree": true,
    });
    let r = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let cwd = PathBuf::from(r.body["cwd"].as_str().expect("cwd"));
    assert!(cwd.starts_with(env.dir().join("data/worktrees")), "{cwd:?}");
    assert_eq!(
        git(&cwd, &["branch", "--show-current"]).trim(),
        "paddock/writer"
    );

    // `show --json` and REST: branch, base, the two files and their lines.
    let mut shown = Value::Null;
    wait_until(
        "show reports the agent's two files",
        Duration::from_secs(15),
        || {
            let out = env.paddock(&["show", "--json", &id]);
            shown = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            shown["session"]["git"]["files_changed"] == 2
        },
    );
    let g = &shown["session"]["git"];
    assert_eq!(g["branch"], "paddock/writer", "{g:#}");
    assert_eq!(g["base"], "main", "{g:#}");
    assert_eq!(
        (g["insertions"].as_u64(), g["deletions"].as_u64()),
        (Some(4), Some(0)),
        "{g:#}"
    );
    assert_eq!(g["uncommitted"], 2, "{g:#}");
    assert_eq!(g["worktree"], cwd.display().to_string());
    let files: Vec<&str> = g["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        files.contains(&"notes.txt") && files.contains(&"src/lib.rs"),
        "{files:?}"
    );
    let text = env.ok(&["show", &id]);
    assert!(
        text.contains("git: paddock/writer *") && text.contains("2 files +4 -0"),
        "{text}"
    );
    let table = env.ok(&["ls"]);
    assert!(
        table.contains("GIT") && table.contains("paddock/writer *"),
        "{table}"
    );

    // The agent's work committed: one ahead of main, nothing uncommitted; REST says so.
    git(&cwd, &["add", "."]);
    git(&cwd, &["commit", "-q", "-m", "agent work"]);
    let path = format!("/api/v1/sessions/{id}");
    let mut view = Value::Null;
    for _ in 0..100 {
        view = web.call("GET", &path, Some(&token), None).await.body;
        if view["git"]["ahead"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let g = &view["git"];
    assert_eq!(
        (g["ahead"].as_u64(), g["behind"].as_u64()),
        (Some(1), Some(0)),
        "{view:#}"
    );
    assert_eq!(g["uncommitted"], 0, "{g:#}");
    assert_eq!(
        g["files_changed"], 2,
        "committed changes still count against main: {g:#}"
    );
    // The list carries it too; a session outside any repository has none.
    let plain = env.dir().join("plain");
    std::fs::create_dir_all(&plain).expect("plain");
    let r = web.call("POST", "/api/v1/sessions", Some(&token),
        Some(json!({"command": ["sleep", "60"], "cwd": plain.display().to_string(), "name": "plain"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let all = web
        .call("GET", "/api/v1/sessions", Some(&token), None)
        .await
        .body;
    let all = all.as_array().expect("sessions");
    let of = |name: &str| {
        all.iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(of("writer")["git"]["branch"], "paddock/writer");
    assert!(of("plain").get("git").is_none(), "{:#}", of("plain"));
}

#[tokio::test]
async fn rest_create_checks_out_a_named_branch_and_explains_refusals() {
    let env = Env::new();
    let repo = repo(&env);
    let (_sup, web) = web::up(&env);
    let token = web.token(&env, "operator").await;
    let start = |body: Value| {
        let web = &web;
        let token = &token;
        async move {
            web.call("POST", "/api/v1/sessions", Some(token), Some(body))
                .await
        }
    };
    let r = start(json!({"command": ["sleep", "60"], "cwd": repo.display().to_string(), "worktree": "feature/login"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cwd = PathBuf::from(r.body["cwd"].as_str().expect("cwd"));
    assert_eq!(
        git(&cwd, &["branch", "--show-current"]).trim(),
        "feature/login"
    );
    assert_eq!(worktrees(&env)[0]["branch"], "feature/login");
    // The same branch again: in use by that worktree.
    let r = start(json!({"command": ["sleep", "60"], "cwd": repo.display().to_string(), "worktree": "feature/login"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("is checked out in") && msg.contains(&cwd.display().to_string()),
        "{msg}"
    );
    // Not a repository.
    let r = start(json!({"command": ["sleep", "60"], "cwd": "/", "worktree": true})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("is not inside a git repository"), "{msg}");
    // `false` is no worktree at all.
    let r = start(json!({"command": ["sleep", "60"], "cwd": repo.display().to_string(), "worktree": false, "name": "inplace"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["cwd"], repo.display().to_string());
}
