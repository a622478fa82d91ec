//! Notifications: how soon a permission request reaches a push service, and how soon an
//! Approve that arrives at the host reaches the agent.
//!
//! A real `paddock up` with its endpoint (the endpoint bench's [`Endpoint`]: TLS on a free
//! loopback port, an operator paired for real) and the Web Push channel; the bench subscribes
//! a device on `paddock-fakeapi`'s loopback push service (it checks VAPID and decrypts every
//! message as a real one would) through `POST /api/v1/notifications/web-push/subscriptions`.
//! `--hook-events` times (÷ 5; 100 by default) the real `paddock hook --agent claude` is
//! spawned with a Claude Code `PermissionRequest` payload, and two times are taken: (1) from
//! the spawn until the push service holds the decrypted message naming that request
//! (must-show: p99 ≤ 250 ms); (2) from sending the answer until the hook process has printed
//! the allow decision and exited (what Claude Code then runs the tool on). Requests take turns
//! at the answer: the message's Approve token to `POST /api/v1/notifications/act` (what the
//! notification's button does), or `POST /api/v1/permissions/{id}/decide` with an operator's
//! token (what the web UI and `paddock approve` do), the reference.

use crate::endpoint::{call, Endpoint};
use crate::harness::Harness;
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use anyhow::{bail, Context};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
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

/// The times of one run.
#[derive(Default)]
struct Times {
    to_push: Vec<Duration>,
    /// Answered through the notification's action token.
    act: Vec<Duration>,
    /// Answered through the permissions route.
    decide: Vec<Duration>,
}

fn measure(
    h: &mut Harness,
    rt: &Runtime,
    opts: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let push =
        paddock_fakeapi::push::PushService::start().context("cannot start the push service")?;
    let browser = push.subscribe();
    // No desktop notifications from a bench, whatever session bus the caller has.
    let ep = Endpoint::start_with(h, &[("PADDOCK_NOTIFY__DESKTOP__ENABLED", "false")])?;
    let session = h.start_session(&[], &["sleep", "100000"])?;
    let n = (opts.hook_events / 5).max(10);
    let result = rt.block_on(async {
        ep.known(&session.id).await?;
        let mut s = ep.http().await?;
        let sub = json!({"endpoint": browser.endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}});
        call(&mut s, &ep.addr, "POST", "/api/v1/notifications/web-push/subscriptions", &ep.token, Some(sub))
            .await
            .context("cannot subscribe the bench's device to Web Push")?;
        let mut t = Times::default();
        for i in 0..n {
            let command = format!("echo bench-{i}");
            let payload = json!({"hook_event_name": "PermissionRequest", "session_id": "bench",
                "tool_name": "Bash", "tool_input": {"command": command}, "permission_suggestions": []});
            let start = Instant::now();
            let mut child = Command::new(h.paddock())
                .args(["hook", "--agent", "claude"])
                .env("PADDOCK_RUNTIME_DIR", h.dir())
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
            t.to_push.push(delivered.at.duration_since(start));
            let message = delivered.json();
            let by_token = i % 2 == 0;
            let pressed = Instant::now();
            if by_token {
                let token = message["actions"][0]["token"].as_str().context("no Approve token in the message")?;
                call(&mut s, &ep.addr, "POST", "/api/v1/notifications/act", "", Some(json!({"token": token})))
                    .await
                    .context("the act route refused the Approve token")?;
            } else {
                let id = message["request"].as_str().context("no request id in the message")?;
                let path = format!("/api/v1/permissions/{id}/decide");
                call(&mut s, &ep.addr, "POST", &path, &ep.token, Some(json!({"decision": {"behavior": "allow"}})))
                    .await
                    .context("the decide route refused the answer")?;
            }
            let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
            if !String::from_utf8_lossy(&out.stdout).contains("allow") {
                bail!("the hook did not print an allow decision: {}", String::from_utf8_lossy(&out.stdout));
            }
            let took = pressed.elapsed();
            if by_token { t.act.push(took) } else { t.decide.push(took) }
        }
        anyhow::Ok(t)
    });
    drop(ep);
    h.stop(&session);
    let t = result?;
    let p = |s: &[Duration], q| micros(percentile(s, q)) / 1000.0;
    report.add(
        Row::new(
            "permission hook fired → push service has it (decrypted), p50 / p99",
            format!("{:.1} / {:.1} ms", p(&t.to_push, 50.0), p(&t.to_push, 99.0)),
        )
        .beside(format!(
            "{n} requests, real `paddock hook` and `paddock up`, loopback push service checking VAPID"
        ))
        .target("p99 ≤ 250 ms", percentile(&t.to_push, 99.0) <= TARGET_P99),
    );
    report.add(
        Row::new(
            "Approve token POSTed to /api/v1/notifications/act → the hook has printed the decision, p50 / p99",
            format!("{:.1} / {:.1} ms", p(&t.act, 50.0), p(&t.act, 99.0)),
        )
        .beside(format!(
            "POST /api/v1/permissions/{{id}}/decide (the web UI's and `paddock approve`'s answer): {:.1} / {:.1} ms; {} and {} requests, taking turns, over one TLS keep-alive connection",
            p(&t.decide, 50.0),
            p(&t.decide, 99.0),
            t.act.len(),
            t.decide.len()
        )),
    );
    report.record(
        "notify",
        json!({
            "requests": n,
            "to_push": latency_summary(&t.to_push),
            "act_to_hook": latency_summary(&t.act),
            "decide_to_hook": latency_summary(&t.decide),
        }),
    );
    Ok(())
}
