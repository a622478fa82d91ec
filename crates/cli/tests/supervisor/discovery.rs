//! What the supervisor finds that Paddock did not start: agents in tmux panes and bare
//! terminals, and the history of every transcript.

use crate::common::*;
use crate::support::T;
use std::os::unix::process::CommandExt;

/// A copy of `sleep` named `claude`: looks like the agent to discovery, costs nothing.
fn fake_claude(env: &Env) -> std::path::PathBuf {
    let bin = env.dir().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let claude = bin.join("claude");
    std::fs::copy("/bin/sleep", &claude).expect("copy sleep");
    claude
}

fn find_by_pid(env: &Env, pid: u32) -> Option<serde_json::Value> {
    env.ls().into_iter().find(|s| s["pid"] == pid)
}

#[test]
fn an_agent_in_a_tmux_pane_and_one_in_a_bare_terminal_are_listed_with_pid_cwd_cpu_and_memory() {
    let env = Env::new();
    let claude = fake_claude(&env);
    let work = tempfile::tempdir().expect("cwd");
    let _sup = env.up();

    // In tmux, on a server of its own.
    let server = format!("pdk-disc-{}", std::process::id());
    let status = std::process::Command::new("tmux")
        .env("TMUX_TMPDIR", env.dir())
        .args(["-L", &server, "-f", "/dev/null", "new-session", "-d", "-c"])
        .arg(work.path())
        .arg(format!("{} 900", claude.display()))
        .status()
        .expect("tmux");
    assert!(status.success());
    struct KillServer(String, std::path::PathBuf);
    impl Drop for KillServer {
        fn drop(&mut self) {
            let _ = std::process::Command::new("tmux")
                .env("TMUX_TMPDIR", &self.1)
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    let _tmux = KillServer(server.clone(), env.dir().to_owned());
    let pane_pid: u32 = String::from_utf8_lossy(
        &std::process::Command::new("tmux")
            .env("TMUX_TMPDIR", env.dir())
            .args(["-L", &server, "display", "-p", "#{pane_pid}"])
            .output()
            .expect("tmux")
            .stdout,
    )
    .trim()
    .parse()
    .expect("pane pid");

    // In a bare terminal: its own session, not under tmux or a holder.
    let mut bare = std::process::Command::new(&claude)
        .arg("901")
        .current_dir(work.path())
        .process_group(0)
        .spawn()
        .expect("bare agent");
    let bare_pid = bare.id();

    // A pane created between two looks at tmux can first be seen as a bare process; the next
    // discovery round puts it right.
    wait_until("both agents discovered and sampled", T, || {
        find_by_pid(&env, pane_pid).is_some_and(|s| !s["rss"].is_null() && s["backend"] == "tmux")
            && find_by_pid(&env, bare_pid).is_some_and(|s| !s["rss"].is_null())
    });
    let cwd = work
        .path()
        .canonicalize()
        .expect("canon")
        .display()
        .to_string();
    let in_tmux = find_by_pid(&env, pane_pid).expect("tmux agent");
    assert_eq!(in_tmux["backend"], "tmux");
    assert_eq!(in_tmux["agent"], "claude");
    assert_eq!(in_tmux["cwd"], cwd.as_str());
    assert!(in_tmux["rss"].as_u64().expect("rss") > 100_000, "{in_tmux}");
    assert!(in_tmux["cpu"].as_f64().is_some());
    let outside = find_by_pid(&env, bare_pid).expect("bare agent");
    assert_eq!(outside["backend"], "external");
    // Its terminal is out of reach and it has no status file: all that is known is that it
    // runs (not a guessed idle, not a starting that never ends).
    assert_eq!(outside["state"], "running", "{outside}");
    assert_eq!(outside["cwd"], cwd.as_str());
    assert!(outside["rss"].as_u64().expect("rss") > 100_000);

    // An external session is controlled by signals; its terminal is plainly out of reach.
    let id = outside["id"].as_str().expect("id").to_owned();
    env.ok(&["suspend", &id]);
    wait_until("stopped", T, || proc_state(bare_pid) == 'T');
    // The supervisor sees it stopped (whoever stopped it) and says so.
    wait_until("listed as paused", T, || {
        find_by_pid(&env, bare_pid).is_some_and(|s| s["paused"] == true)
    });
    env.ok(&["resume", &id]);
    wait_until("running again", T, || proc_state(bare_pid) == 'S');
    wait_until("no longer paused", T, || {
        find_by_pid(&env, bare_pid).is_some_and(|s| s["paused"] == false)
    });
    let out = env.paddock(&["send", &id, "hello"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not hold (external)"));
    env.ok(&["kill", &id]);
    let _ = bare.wait();
    wait_until("the killed external agent to leave the list", T, || {
        find_by_pid(&env, bare_pid).is_none()
    });
}

#[test]
fn the_history_of_every_transcript_is_indexed_and_searchable() {
    let env = Env::new();
    let home = tempfile::tempdir().expect("home");
    let project = home.path().join(".claude/projects/-home-dev-app");
    std::fs::create_dir_all(&project).expect("projects");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../agents/tests/data/claude-transcript-2.1.328.jsonl"
        ),
        project.join("e8c436b3-3564-4f9e-8905-a44d5422124f.jsonl"),
    )
    .expect("copy the sample transcript");
    let _sup = env.up_with(&[("HOME".into(), home.path().display().to_string())]);
    let mut sessions = Vec::new();
    wait_until("the sample transcript in the history", T, || {
        sessions = serde_json::from_str::<Vec<serde_json::Value>>(&env.ok(&["history", "--json"]))
            .expect("JSON");
        !sessions.is_empty()
    });
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let s = &sessions[0];
    assert_eq!(s["agent"], "claude");
    assert_eq!(s["cwd"], "/home/dev/app");
    // The id the records carry (the sample's file was renamed when it was collected).
    assert_eq!(s["session_id"], "63a89093-4ee6-447d-b5e0-c1488233b86a");
    assert!(s["prompts"].as_u64().is_some_and(|p| p >= 1), "{s}");
    let hits: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["history", "--json", "file"])).expect("JSON");
    assert!(
        hits.iter().any(|h| h["role"] == "user"
            && h["snippet"]
                .as_str()
                .is_some_and(|t| t.contains("\u{2}file\u{3}"))),
        "{hits:#?}"
    );
    let none: Vec<serde_json::Value> =
        serde_json::from_str(&env.ok(&["history", "--json", "zebracorn"])).expect("JSON");
    assert!(none.is_empty());
}
