//! Faults of the machine against a real `paddock up`: the data directory's disk full (a small
//! tmpfs filled by the test), a corrupt or deleted database, the runtime directory removed
//! while running, unreadable TLS files. Each must give a clear message and a defined
//! recovery (ARCHITECTURE.md, "Machine faults").

mod common;

#[path = "common/web.rs"]
mod web;

use common::*;
use paddock_proto::{Hello, Mode};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// A tmpfs of `size` mounted at a directory, unmounted when dropped. Tests run as root (here
/// and in CI); a refused mount fails the test with the reason instead of skipping it.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).expect("mount point");
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test makes a small filesystem with `mount -t tmpfs` and must run as root \
             (CAP_SYS_ADMIN); mount said: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the filesystem refuses more (ENOSPC).
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    // The last partial block too.
    while f.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
}

fn status(env: &Env) -> Value {
    serde_json::from_str(&env.ok(&["status", "--json"])).expect("status json")
}

/// The line of the component `name` in a status or health report (null when absent).
fn component(report: &Value, name: &str) -> Value {
    report["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name).cloned())
        .unwrap_or(Value::Null)
}

/// The `database` line of `paddock status --json`.
fn database(env: &Env) -> Value {
    component(&status(env), "database")
}

/// Checks that the revoked device's access and refresh tokens are both refused.
async fn assert_refused(web: &web::Web, token: &str, refresh: &str, when: &str) {
    let r = web.call("GET", "/api/v1/sessions", Some(token), None).await;
    assert_eq!(
        r.status, 401,
        "a revoked device is refused {when}: {}",
        r.body
    );
    let r = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(serde_json::json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(r.status, 401, "its refresh token too {when}: {}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_data_disk_degrades_the_database_keeps_sessions_and_recovers_when_space_returns() {
    let env = Env::new();
    let data = env.dir().join("data");
    let _fs = Tmpfs::mount(&data, "8m");
    let sup = env.up();
    let web = web::Web::of(&env);
    let shell = env.run(&[], &["sh", "-c", "while read l; do echo \"got:$l\"; done"]);
    let mut typist = env.connect(&shell, Hello::control(Mode::ReadWrite)).await;
    let mut screen = env.follower(&shell).await;
    typist.send_input(b"before\r").await.expect("input");
    collect_until(&mut screen, T, "the echo before the fault", |c| {
        c.saw(b"got:before")
    })
    .await;
    wait_until("the database to be healthy", T, || {
        database(&env)["status"] == "healthy"
    });
    // Devices paired while there is space: an admin, and a viewer revoked while it is full.
    let admin = web.token(&env, "admin").await;
    let viewer = web.pair(&env, "viewer").await;
    let viewer_id = viewer["device_id"].as_str().expect("id").to_owned();
    let viewer_token = viewer["access_token"].as_str().expect("token").to_owned();
    let viewer_refresh = viewer["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    fill(&data.join("filler"));
    // Sessions that start and end while the disk is full: their records cannot be written.
    let mut during = Vec::new();
    for i in 0..3 {
        during.push(env.run(&["--name", &format!("full{i}")], &["sh", "-c", "exit 3"]));
    }
    wait_until("the database to say the disk is full", T, || {
        let db = database(&env);
        db["status"] == "degraded" && db["message"].as_str().is_some_and(|m| m.contains("full"))
    });
    let db = database(&env);
    let message = db["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("free some space"),
        "says what to do: {message}"
    );
    assert!(
        message.contains("records are kept in memory"),
        "counts what waits to be written: {message}"
    );
    let r = web.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "degraded", "{}", r.body);
    let text = env.ok(&["status"]);
    assert!(
        text.contains("database"),
        "status names the database: {text}"
    );
    let doctor = env.paddock(&["doctor"]);
    let doctor = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        doctor.contains("degraded: database:") && doctor.contains("free some space"),
        "doctor says it too: {doctor}"
    );
    // The count of records kept in memory is a field of its own, and said by status and
    // doctor.
    let pending = database(&env)["pending_writes"].as_u64().unwrap_or(0);
    assert!(
        pending > 0,
        "pending_writes counts them: {}",
        database(&env)
    );
    assert!(
        text.contains("records not written yet, kept in memory"),
        "status says how many wait: {text}"
    );
    assert!(
        doctor.contains("records not written yet, kept in memory"),
        "doctor says how many wait: {doctor}"
    );
    let r = web.call("GET", "/api/v1/health", None, None).await;
    let line = component(&r.body, "database");
    assert!(
        line["pending_writes"].as_u64().is_some_and(|n| n > 0),
        "{line}"
    );

    // An audited refusal, a notification, and a revocation while the disk is full.
    let refused = web
        .call("GET", "/api/v1/processes", Some("not-a-token"), None)
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let test = web.test_notification("web_push", &admin).await;
    assert_ne!(
        test.status, 404,
        "the web_push channel exists: {}",
        test.body
    );
    let r = web
        .call(
            "DELETE",
            &format!("/api/v1/devices/{viewer_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        r.status, 200,
        "a revocation is not refused for a full disk: {}",
        r.body
    );
    assert!(!r.body["revoked_at"].is_null(), "{}", r.body);
    assert_refused(&web, &viewer_token, &viewer_refresh, "at once").await;
    // Pairing a new device waits for space, saying so; its offer is not used up.
    let offer: Value =
        serde_json::from_str(&env.ok(&["pair", "--json", "--role", "operator"])).expect("offer");
    let claim = serde_json::json!({"secret": offer["secret"], "device_name": "late phone"});
    let r = web
        .call("POST", "/api/v1/pair", None, Some(claim.clone()))
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("disk") && message.contains("full") && message.contains("same offer"),
        "says why and what to do: {message}"
    );

    // The supervisor stays up; typing and a new attach keep working.
    assert_eq!(status(&env)["pid"], sup.pid());
    typist.send_input(b"during\r").await.expect("input");
    collect_until(&mut screen, T, "the echo while the disk is full", |c| {
        c.saw(b"got:during")
    })
    .await;
    let mut late = env.follower(&shell).await;
    typist.send_input(b"late\r").await.expect("input");
    collect_until(&mut late, T, "a new attach's echo", |c| c.saw(b"got:late")).await;

    std::fs::remove_file(data.join("filler")).expect("free the space");
    wait_until("the database to be healthy again", T, || {
        database(&env)["status"] == "healthy"
    });
    let r = web.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(r.body["status"], "healthy", "{}", r.body);
    typist.send_input(b"after\r").await.expect("input");
    collect_until(&mut screen, T, "the echo after recovery", |c| {
        c.saw(b"got:after")
    })
    .await;
    let r = web.call("POST", "/api/v1/pair", None, Some(claim)).await;
    assert_eq!(
        r.status, 200,
        "the offer works once there is space: {}",
        r.body
    );

    // The revocation was written: after a restart the device is still refused.
    drop(sup);
    let sup = env.up();
    let web = web::Web::of(&env);
    assert_refused(&web, &viewer_token, &viewer_refresh, "after a restart").await;
    drop(sup);

    let store = paddock_store::Store::open(&data.join("paddock.db")).expect("reopen the database");
    assert_eq!(store.integrity_check().expect("integrity_check"), "ok");
    let stored = stored_sessions(&data.join("paddock.db"));
    for id in &during {
        assert!(
            stored.contains(id),
            "the session {id} that ran while the disk was full was written once space \
             returned: {stored:?}"
        );
    }
    let audit = store
        .audit(&paddock_store::AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .expect("audit");
    assert!(
        audit.iter().any(|a| a.action == "auth.unauthenticated"
            && a.target
                .as_deref()
                .is_some_and(|t| t.starts_with("GET /api/v1/processes from "))),
        "the refusal made while the disk was full is in the audit log: {audit:#?}"
    );
    assert!(
        audit
            .iter()
            .any(|a| a.action == "device.revoke" && a.target.as_deref() == Some(&viewer_id)),
        "and the revocation's entry: {audit:#?}"
    );
    let devices = store.devices().expect("devices");
    let revoked = devices
        .iter()
        .find(|d| d.id == viewer_id)
        .expect("the viewer");
    assert!(revoked.revoked.is_some(), "stored as revoked: {revoked:?}");
    let log = store.notifications(100).expect("the delivery log");
    assert!(
        log.iter()
            .any(|n| n.notification.title == "Paddock test notification"),
        "the notification made while the disk was full is in the delivery log: {log:#?}"
    );
}

/// The ids of the sessions stored in the database at `db` (opened beside a running supervisor:
/// WAL lets both read).
fn stored_sessions(db: &Path) -> Vec<String> {
    let store = paddock_store::Store::open(db).expect("open the database");
    store
        .sessions()
        .expect("sessions")
        .into_iter()
        .map(|s| s.id.to_string())
        .collect()
}

#[test]
fn a_corrupt_database_at_start_is_moved_aside_said_loudly_and_replaced() {
    let env = Env::new();
    let data = env.dir().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let garbage: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(data.join("paddock.db"), &garbage).expect("garbage");

    let _sup = env.up();
    let db = database(&env);
    assert_eq!(db["status"], "degraded", "{db}");
    let message = db["message"].as_str().unwrap_or_default();
    assert!(message.contains("moved aside"), "{message}");
    let aside: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("data dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("paddock.db.corrupt-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "one copy moved aside: {aside:?}");
    assert!(
        message.contains(&aside[0].display().to_string()),
        "names the copy: {message}"
    );
    assert_eq!(
        std::fs::read(&aside[0]).expect("copy"),
        garbage,
        "kept as it was"
    );
    let log = std::fs::read_to_string(data.join("logs/paddock.log")).expect("log");
    assert!(log.contains("moved aside"), "said in the log: {log}");

    // The fresh database works.
    let id = env.run(&[], &["sh", "-c", "exit 0"]);
    wait_until("the new session to be stored", T, || {
        stored_sessions(&data.join("paddock.db")).contains(&id)
    });
}

#[test]
fn a_database_deleted_while_running_is_rebuilt_without_losing_history() {
    let env = Env::new();
    let data = env.dir().join("data");
    let _sup = env.up();
    let db_path = data.join("paddock.db");
    let before = env.run(&["--name", "before"], &["sh", "-c", "exit 0"]);
    wait_until("the first session to be stored", T, || {
        stored_sessions(&db_path).contains(&before)
    });

    // What `rm paddock.db*` does.
    for name in ["paddock.db", "paddock.db-wal", "paddock.db-shm"] {
        let _ = std::fs::remove_file(data.join(name));
    }
    wait_until("the database to say it was rebuilt", T, || {
        database(&env)["message"]
            .as_str()
            .is_some_and(|m| m.contains("was deleted while Paddock was running"))
    });
    assert!(db_path.exists(), "the file is back");
    let stored = stored_sessions(&db_path);
    assert!(stored.contains(&before), "nothing lost: {stored:?}");
    let after = env.run(&["--name", "after"], &["sh", "-c", "exit 0"]);
    wait_until("a new session to reach the rebuilt file", T, || {
        stored_sessions(&db_path).contains(&after)
    });
    let store = paddock_store::Store::open(&db_path).expect("open");
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

/// Starts `paddock up` and returns it with the lines it wrote on stderr until `want` appeared.
fn up_saying(env: &Env, want: &str) -> (Supervisor, String) {
    use std::io::BufRead;
    let mut sup = env.up();
    let stderr = sup.child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + T;
    let mut said = String::new();
    while !said.contains(want) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                said.push_str(&line);
                said.push('\n');
            }
            Err(_) => panic!("`paddock up` never said {want:?}; it said:\n{said}"),
        }
    }
    (sup, said)
}

fn endpoint(env: &Env) -> Value {
    component(&status(env), "endpoint")
}

#[test]
fn unreadable_or_damaged_tls_files_are_named_with_the_command_that_makes_new_ones() {
    let env = Env::new();
    let tls = env.dir().join("data/endpoint/tls");
    let sup = env.up();
    assert!(
        tls.join("key.der").exists(),
        "the first start made a certificate"
    );
    drop(sup);
    let key = std::fs::read(tls.join("key.der")).expect("key");
    let fix = format!("rm -r {}", tls.display());

    // Garbage in the key, then in the certificate: the file at fault is named.
    for (file, other) in [("key.der", "cert.der"), ("cert.der", "key.der")] {
        let good = std::fs::read(tls.join(file)).expect("file");
        std::fs::write(tls.join(file), b"this is not DER at all").expect("garbage");
        let (sup, said) = up_saying(&env, "did not start");
        let path = tls.join(file).display().to_string();
        assert!(
            said.contains(&format!("{path} is damaged")),
            "names {file}: {said}"
        );
        assert!(!said.contains(&format!("{} is damaged", tls.join(other).display())));
        assert!(said.contains(&fix), "says how to make new ones: {said}");
        let e = endpoint(&env);
        assert_eq!(e["status"], "unhealthy", "{e}");
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains(&path)),
            "{e}"
        );
        assert!(status(&env)["url"].is_null(), "no endpoint is served");
        drop(sup);
        std::fs::write(tls.join(file), good).expect("restore");
    }

    // A key that cannot be read (a directory in its place: root reads even mode 000 files)
    // is named and left alone, never silently replaced by a new key.
    std::fs::remove_file(tls.join("key.der")).expect("rm key");
    std::fs::create_dir(tls.join("key.der")).expect("dir as key");
    let (sup, said) = up_saying(&env, "did not start");
    assert!(
        said.contains(&format!(
            "cannot read the endpoint's TLS file {}",
            tls.join("key.der").display()
        )),
        "{said}"
    );
    assert!(said.contains(&fix), "{said}");
    assert!(tls.join("key.der").is_dir(), "left as it was");
    drop(sup);

    // The recovery it names works: a new certificate, the endpoint serves again.
    std::fs::remove_dir(tls.join("key.der")).expect("rm dir");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&fix)
        .output()
        .expect("rm -r");
    assert!(out.status.success());
    let _sup = env.up();
    assert_eq!(endpoint(&env)["status"], "healthy");
    assert_ne!(std::fs::read(tls.join("key.der")).expect("new key"), key);
}

/// The `runtime` line of `paddock status --json`, once the supervisor answers again.
fn runtime(env: &Env) -> Value {
    let out = env.paddock(&["status", "--json"]);
    let Ok(st) = serde_json::from_slice::<Value>(&out.stdout) else {
        return Value::Null;
    };
    component(&st, "runtime")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_runtime_directory_is_made_again_with_every_socket() {
    let env = Env::new();
    let sup = env.up();
    let shell = env.run(&[], &["sh", "-c", "while read l; do echo \"got:$l\"; done"]);
    wait_until("the session to be adopted", T, || {
        env.ls().iter().any(|s| s["id"] == shell.as_str())
    });

    // `rm -rf` of the whole directory (here the data directory goes with it).
    std::fs::remove_dir_all(env.dir()).expect("rm -rf the runtime directory");
    wait_until(
        "the supervisor to be reachable and say what happened",
        T,
        || {
            runtime(&env)["message"]
                .as_str()
                .is_some_and(|m| m.contains("was removed while Paddock was running"))
        },
    );
    assert_eq!(runtime(&env)["status"], "degraded");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(env.dir())
            .expect("made again")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o700, "private again");
    assert_eq!(status(&env)["pid"], sup.pid());
    let again = env.paddock(&["up"]);
    assert!(
        !again.status.success(),
        "a second supervisor is still refused"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already running"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The session brings its socket back and can be attached and typed into.
    wait_until("the session's socket to be back", T, || {
        env.socket(&shell).exists()
    });
    wait_until("its metadata to be back", T, || {
        env.dir().join(format!("{shell}.json")).exists()
    });
    let mut screen = env.follower(&shell).await;
    let mut typist = env.connect(&shell, Hello::control(Mode::ReadWrite)).await;
    typist.send_input(b"back\r").await.expect("input");
    collect_until(
        &mut screen,
        T,
        "the echo after the directory came back",
        |c| c.saw(b"got:back"),
    )
    .await;
    assert!(env.ls().iter().any(|s| s["id"] == shell.as_str()));
    let id = env.run(&[], &["sh", "-c", "exit 0"]);
    wait_until("a new session to be adopted", T, || {
        env.ls().iter().any(|s| s["id"] == id.as_str())
    });
}
