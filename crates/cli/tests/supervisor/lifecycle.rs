//! `paddock up` itself: its defaults, being alone, `kill -9` and a restart, `status`, the
//! default config and the systemd unit.

use crate::common::*;
use crate::support::{status, T};
use std::time::{Duration, Instant};

#[test]
fn up_runs_on_embedded_defaults_and_a_second_one_says_where_the_first_is() {
    let env = Env::new();
    let sup = env.up();
    let st = status(&env);
    assert_eq!(st["running"], true);
    assert_eq!(st["pid"], sup.pid());
    assert_eq!(st["health"], "healthy");
    // The build it is: the commit `paddock`'s build recorded and handed to the supervisor
    // (absent only in a build made outside a git checkout).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) => assert_eq!(st["commit"], head.as_str(), "{st:#}"),
        None => assert!(st["commit"].is_null(), "{st:#}"),
    }
    assert!(
        env.dir().join("data/logs/paddock.log").exists(),
        "logs in the data dir"
    );

    let out = env.paddock(&["up"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "a supervisor is already running (pid {},",
            sup.pid()
        )),
        "{err}"
    );
    assert!(err.contains("_supervisor.sock"), "{err}");
}

#[test]
fn the_supervisor_lists_every_holder_with_the_supervisor_fields() {
    let env = Env::new();
    let _sup = env.up();
    let a = env.run(&["--name", "a"], &["sleep", "600"]);
    wait_until("the new holder to be adopted", T, || {
        env.ls()
            .iter()
            .any(|s| s["id"] == a.as_str() && s["backend"] == "holder")
    });
    env.ok(&["kill", "a"]);
    wait_until("its exit to reach the supervisor", T, || {
        env.ls()
            .iter()
            .any(|s| s["id"] == a.as_str() && s["state"] == "exited" && s["exit_code"] == 137)
    });
    assert_eq!(status(&env)["holders"], 1);
}

#[test]
fn killing_the_supervisor_loses_nothing_and_a_restart_readopts_every_session_within_a_second() {
    let env = Env::new();
    let sup = env.up();
    let ids: Vec<String> = (0..20)
        .map(|i| env.run(&["--name", &format!("s{i}")], &["sleep", "600"]))
        .collect();
    wait_until("all adopted", T, || status(&env)["holders"] == 20);
    let pids: Vec<u32> = ids.iter().map(|id| env.meta(id).pid).collect();
    sup.kill9();
    for pid in &pids {
        assert!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid as i32), None).is_ok(),
            "agent {pid} survived"
        );
    }
    let started = Instant::now();
    let _sup = env.up();
    wait_until("every session re-adopted", T, || {
        status(&env)["holders"] == 20
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "re-adoption took {took:?}");
    let ls = env.ls();
    for id in &ids {
        assert!(
            ls.iter().any(|s| s["id"] == id.as_str() && is_live(s)),
            "{id} is back with the same id"
        );
    }
}

#[test]
fn status_without_a_supervisor_says_how_to_start_one() {
    let env = Env::new();
    assert!(env.ok(&["status"]).contains("`paddock up`"));
    assert_eq!(status(&env)["running"], false);
}

#[test]
fn default_config_is_a_valid_config() {
    let env = Env::new();
    let text = env.ok(&["default-config"]);
    std::fs::create_dir_all(env.dir().join("conf")).expect("mkdir");
    std::fs::write(env.dir().join("conf/config.toml"), &text).expect("write");
    let _sup = env.up();
    std::fs::write(env.dir().join("conf/config.toml"), "sample_intervall = 1").expect("write");
    let out = env.paddock(&[
        "up",
        "--config",
        env.dir().join("conf/config.toml").to_str().expect("utf8"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sample_intervall") && err.contains("default-config"),
        "{err}"
    );
}

#[test]
fn service_install_writes_a_systemd_unit_that_systemd_accepts() {
    let env = Env::new();
    let home = env.dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = env
        .cmd()
        .args(["service", "install", "--no-start"])
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unit_path = home.join(".config/systemd/user/paddock.service");
    let unit = std::fs::read_to_string(&unit_path).expect("unit written");
    assert!(unit.contains(&format!("ExecStart={PADDOCK} up")), "{unit}");
    assert!(
        unit.contains("KillMode=process"),
        "stopping the service must spare the agents"
    );

    let verify = |path: &std::path::Path| {
        std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(path)
            .output()
    };
    match verify(&unit_path) {
        Ok(out) => {
            assert!(
                out.status.success(),
                "systemd-analyze verify: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The check is real: a broken unit is refused.
            let broken = home.join("broken.service");
            std::fs::write(
                &broken,
                unit.replace(
                    &format!("ExecStart={PADDOCK} up"),
                    "ExecStart=relative/path up",
                ),
            )
            .expect("write");
            assert!(!verify(&broken).expect("verify").status.success());
        }
        Err(_) => eprintln!("systemd-analyze is not installed; checked the unit's content only"),
    }

    let out = env
        .cmd()
        .args(["service", "uninstall"])
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("removed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!unit_path.exists());
}
