//! What a path can reach: odd path parameters, and transcripts only in the agents' own folders.

use crate::audit::T;
use crate::common::{wait_until, Env};
use crate::web::{relaxed, up_env, Web};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Path parameters an attacker would try: traversal, encoded traversal, NUL, overlong UTF-8,
/// other encodings, and very long ids.
const ODD_IDS: &[&str] = &[
    "..",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "a%00b",
    "%00",
    "%C0%AE%C0%AE",
    "%C0%AF",
    "%E0%80%AE",
    "%FF%FE",
    "%252e%252e",
    "..%5c..%5cwindows",
    "a;b",
    "%0d%0aX-Injected:%201",
];

#[tokio::test]
async fn every_path_parameter_refuses_traversal_and_odd_encodings_without_harm() {
    let env = Env::new();
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let long = "a".repeat(4000);
    let mut ids: Vec<&str> = ODD_IDS.to_vec();
    ids.push(&long);
    let mut tried = 0;
    for (method, route, _) in paddock_server::app::ROUTES {
        if !route.contains('{') {
            continue;
        }
        for id in &ids {
            let path = route
                .replace("{id}", id)
                .replace("{index}", id)
                .replace("{channel}", id);
            let body = (*method != "GET" && *method != "DELETE").then(|| json!({}));
            let (status, headers, raw) = web
                .raw(
                    method,
                    &path,
                    &[
                        ("authorization", &format!("Bearer {admin}")),
                        ("content-type", "application/json"),
                    ],
                    body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
                )
                .await;
            tried += 1;
            assert!(
                matches!(status, 400 | 404 | 405 | 413 | 422),
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&raw)
            );
            assert!(!headers.contains_key("x-injected"), "{method} {path}");
            let v: Value = serde_json::from_slice(&raw).unwrap_or_else(|_| {
                panic!(
                    "{method} {path}: not a JSON error: {}",
                    String::from_utf8_lossy(&raw)
                )
            });
            assert!(v["error"]["message"].is_string(), "{method} {path}: {v}");
            let text = String::from_utf8_lossy(&raw);
            assert!(
                !text.contains("root:"),
                "{method} {path} served a file: {text}"
            );
        }
    }
    assert!(tried > 100, "only {tried} probes ran");
    // The static UI's paths too: no file outside the embedded UI is ever served.
    for id in ODD_IDS {
        let (status, _, raw) = web
            .raw("GET", &format!("/assets/{id}"), &[], Vec::new())
            .await;
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("root:"), "/assets/{id}: {status} {text}");
    }
    let r = web.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(r.status, 200, "the endpoint still serves");
}

#[tokio::test]
async fn the_transcript_route_serves_only_the_agents_own_transcripts() {
    let env = Env::new();
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let viewer = web.token(&env, "viewer").await;
    let claude = env.dir().join("claude");
    let projects = claude.join("projects/-work-app");
    std::fs::create_dir_all(&projects).expect("projects");
    let line = r#"{"type":"user","message":{"role":"user","content":"secret plans"},"uuid":"u1","timestamp":"2026-12-06T08:00:00Z"}"#;
    // A .jsonl file of the owner's elsewhere, and a link to it inside the agent's folder.
    let secret = env.dir().join("secrets.jsonl");
    std::fs::write(&secret, format!("{line}\n")).expect("secret");
    std::os::unix::fs::symlink(&secret, projects.join("link.jsonl")).expect("link");
    let id = env.run(&[], &["cat"]);
    wait_until("the supervisor knows the session", T, || {
        env.ok(&["ls", "--json"]).contains(&id)
    });
    let url = format!("/api/v1/sessions/{id}/transcript");
    for named in [
        secret.clone(),
        projects.join("link.jsonl"),
        projects.join("../../../secrets.jsonl"),
    ] {
        env.announce_transcript(&id, &named, Some(&claude));
        let r = web.call("GET", &url, Some(&viewer), None).await;
        assert_eq!(r.status, 404, "{}: {}", named.display(), r.body);
        assert!(!r.body.to_string().contains("secret plans"), "{}", r.body);
    }
    let real = projects.join("4f9d.jsonl");
    std::fs::write(
        &real,
        format!("{}\n", line.replace("secret plans", "fix the bug")),
    )
    .expect("transcript");
    env.announce_transcript(&id, &real, Some(&claude));
    let deadline = Instant::now() + T;
    loop {
        let r = web.call("GET", &url, Some(&viewer), None).await;
        if r.status == 200 {
            assert!(r.body.to_string().contains("fix the bug"), "{}", r.body);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent's own transcript is served: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Named again after the real one, the outside file does not replace it.
    env.announce_transcript(&id, &secret, Some(&claude));
    let r = web.call("GET", &url, Some(&viewer), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("secret plans"), "{}", r.body);
}
