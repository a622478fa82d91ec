//! Notifications: how soon a permission request reaches a push service, and how soon a
//! notification's Approve reaches the agent.
//!
//! A supervisor runs in this process (as in `hooks`) with the Web Push channel
//! (`paddock-notify`) and one subscription on `paddock-fakeapi`'s loopback push service,
//! which checks VAPID and decrypts every message as a real one would. `--hook-events` times
//! (÷ 5; 100 by default) the real `paddock hook --agent claude` is spawned with a Claude Code
//! `PermissionRequest` payload, and two times are taken: (1) from the spawn until the push
//! service holds the decrypted message naming that request (must-show: p99 ≤ 250 ms); (2)
//! from redeeming the message's Approve token (as the endpoint's `act` route does) until the
//! hook process has printed its decision and exited (what Claude Code then acts on).

use crate::harness::Harness;
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use anyhow::{bail, Context};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Target: the push service has the request within this time of the hook firing (p99).
const TARGET_P99: Duration = Duration::from_millis(250);
const EVENT_LIMIT: Duration = Duration::from_secs(10);

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    if let Err(e) = measure(h, rt, opts, report) {
        report.fail("permission hook → push service", &e);
    }
}

fn measure(
    h: &mut Harness,
    rt: &Runtime,
    opts: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("paddock-bench-notify-{}", std::process::id()));
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let mut config = paddock_core::Config {
        data_dir: Some(data.clone()),
        ..Default::default()
    };
    config.notify.desktop.enabled = false;
    config.notify.web_push.contact = "mailto:bench@example.com".into();
    let push =
        paddock_fakeapi::push::PushService::start().context("cannot start the push service")?;
    let browser = push.subscribe();
    let dir = paddock_host::RuntimeDir::open(h.dir().to_owned())
        .context("cannot open the bench's runtime directory")?;
    let session = h.start_session(&[], &["sleep", "100000"])?;
    let paddock = h.paddock().to_owned();
    let n = (opts.hook_events / 5).max(10);
    let result = rt.block_on(async {
        let sup = paddock_core::Supervisor::start(config, data.join("config.toml"), dir).context("cannot start the supervisor")?;
        let handle = sup.handle().clone();
        let setup = handle.notifier().web_push().context("Web Push did not start")?.clone();
        setup.subscriptions.add(paddock_core::notify::subscriptions::WebPushSubscription {
            endpoint: browser.endpoint.clone(),
            keys: paddock_core::notify::subscriptions::SubscriptionKeys { p256dh: browser.p256dh.clone(), auth: browser.auth.clone() },
            device: Some("bench".into()),
            device_name: Some("bench".into()),
            created_at: None,
        })?;
        let channel = paddock_notify::web_push::WebPush::new(setup, Duration::from_secs(60)).map_err(|e| anyhow::anyhow!("{e}"))?;
        handle.add_notify_channel(Arc::new(channel));
        let id = paddock_proto::SessionId::parse(&session.id).map_err(|e| anyhow::anyhow!("bad session id: {e}"))?;
        let deadline = Instant::now() + EVENT_LIMIT;
        while handle.registry().get(&id).is_none() {
            if Instant::now() > deadline {
                bail!("the supervisor did not adopt the bench session");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut to_push = Vec::with_capacity(n);
        let mut to_agent = Vec::with_capacity(n);
        for i in 0..n {
            let command = format!("echo bench-{i}");
            let payload = json!({"hook_event_name": "PermissionRequest", "session_id": "bench",
                "tool_name": "Bash", "tool_input": {"command": command}, "permission_suggestions": []});
            let start = Instant::now();
            let mut child = Command::new(&paddock)
                .args(["hook", "--agent", "claude"])
                .env("PADDOCK_RUNTIME_DIR", handle.runtime_dir().path())
                .env("PADDOCK_SESSION_ID", &session.id)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .context("cannot start `paddock hook`")?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(payload.to_string().as_bytes())?;
            }
            let delivered = loop {
                if let Some(d) = push.delivered().into_iter().find(|d| d.json()["detail"] == command.as_str()) {
                    break d;
                }
                if start.elapsed() > EVENT_LIMIT {
                    bail!("the push service had no message for request {i} within 10 s:\n{}", push.log());
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            to_push.push(delivered.at.duration_since(start));
            let token = delivered.json()["actions"][0]["token"].as_str().context("no Approve token in the message")?.to_owned();
            let pressed = Instant::now();
            paddock_core::notify::redeem(&handle, &token, None, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
            if !String::from_utf8_lossy(&out.stdout).contains("allow") {
                bail!("the hook did not print an allow decision: {}", String::from_utf8_lossy(&out.stdout));
            }
            to_agent.push(pressed.elapsed());
        }
        sup.stop().await;
        anyhow::Ok((to_push, to_agent))
    });
    h.stop(&session);
    let _ = std::fs::remove_dir_all(&data);
    let (to_push, to_agent) = result?;
    let p = |s: &[Duration], q| micros(percentile(s, q)) / 1000.0;
    report.add(
        Row::new(
            "permission hook fired → push service has it (decrypted), p50 / p99",
            format!("{:.1} / {:.1} ms", p(&to_push, 50.0), p(&to_push, 99.0)),
        )
        .beside(format!(
            "{n} requests, real `paddock hook`, loopback push service checking VAPID"
        ))
        .target("p99 ≤ 250 ms", percentile(&to_push, 99.0) <= TARGET_P99),
    );
    report.add(
        Row::new(
            "Approve redeemed → the hook has printed the decision, p50 / p99",
            format!("{:.1} / {:.1} ms", p(&to_agent, 50.0), p(&to_agent, 99.0)),
        )
        .beside("token check + the registry's decide + the hook process exiting".to_owned()),
    );
    report.record("notify", json!({ "requests": n, "to_push": latency_summary(&to_push), "approve_to_hook": latency_summary(&to_agent) }));
    Ok(())
}
