//! Tests of delivery: retries, unhealthy channels, skips and cooldowns.

use super::*;
use crate::notify::channel::{BoxFuture, Capabilities, ChannelError};
use crate::notify::model::{NotificationKind, NotificationState};
use crate::notify::rules::Draft;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

/// A channel whose first `fail` deliveries fail with `error`.
struct Flaky {
    fail: u32,
    error: ChannelError,
    calls: AtomicU32,
}

impl Channel for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: true,
            withdraw: true,
            ..Default::default()
        }
    }
    fn deliver<'a>(&'a self, _out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.fail {
                Err(self.error.clone())
            } else {
                Ok(Receipt {
                    remote_ids: vec![format!("r{n}")],
                    detail: None,
                })
            }
        })
    }
}

fn setup(fail: u32, error: ChannelError) -> (tempfile::TempDir, Notifier, Health, Arc<Flaky>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let health = Health::new(crate::events::Bus::new());
    let config = NotifyConfig {
        web_push: super::super::config::WebPushConfig {
            enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let n = Notifier::new(config, health.clone(), dir.path(), None);
    let ch = Arc::new(Flaky {
        fail,
        error,
        calls: AtomicU32::new(0),
    });
    n.push_channel(ch.clone());
    (dir, n, health, ch)
}

fn draft(request: Option<&str>) -> Draft {
    Draft {
        kind: NotificationKind::Permission,
        rule: "permission".into(),
        title: "t".into(),
        body: "b".into(),
        request: request.map(|id| paddock_proto::agent::PermissionRequest {
            id: id.into(),
            session: paddock_proto::SessionId::parse("s1").expect("id"),
            agent_session: None,
            tool: "Bash".into(),
            input: serde_json::json!({"command": "make"}),
            suggestions: Vec::new(),
            created_at: String::new(),
            expires_at: String::new(),
            channel: paddock_proto::agent::AnswerChannel::Hook,
            outcome: None,
            questions: Vec::new(),
        }),
    }
}

fn board(health: &Health) -> (HealthStatus, String) {
    let c = health
        .components()
        .into_iter()
        .find(|c| c.name == "notify.flaky")
        .expect("on the board");
    (c.status, c.message)
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_then_delivered() {
    let (_d, n, health, ch) = setup(1, ChannelError::Transient("503".into()));
    let note = n.create(draft(Some("p1")), None);
    let out = n.outgoing(
        &note,
        ch.as_ref(),
        None,
        SystemTime::now() + Duration::from_secs(60),
    );
    assert_eq!(out.actions.len(), 2, "Approve and Deny, each with a token");
    n.deliver(ch.clone(), out).await.expect("second attempt");
    let (_, deliveries) = n.get(&note.id).expect("remembered");
    assert_eq!(deliveries[0].status, DeliveryStatus::Delivered);
    assert_eq!(deliveries[0].attempts, 2);
    assert_eq!(board(&health).0, HealthStatus::Healthy);
    // Answered elsewhere: the delivered notification is handed back to be withdrawn.
    let back = n.close_request(
        "p1",
        NotificationState::Answered {
            by: "cli".into(),
            verb: "allowed".into(),
            at: "now".into(),
        },
        "Allowed by cli",
    );
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].2.remote_ids, ["r1"]);
    assert!(!n.is_open(&note.id));
}

#[tokio::test]
async fn a_channel_that_keeps_refusing_is_not_retried_and_turns_unhealthy() {
    let (_d, n, health, ch) = setup(u32::MAX, ChannelError::Rejected("400 bad".into()));
    for i in 1..=3 {
        let note = n.create(draft(None), None);
        let out = n.outgoing(&note, ch.as_ref(), None, SystemTime::now());
        let err = n.deliver(ch.clone(), out).await.expect_err("refused");
        assert_eq!(err, ChannelError::Rejected("400 bad".into()));
        assert_eq!(
            ch.calls.load(Ordering::SeqCst),
            i,
            "a refusal is not retried"
        );
        let (_, d) = n.get(&note.id).expect("remembered");
        assert_eq!(d[0].status, DeliveryStatus::Failed);
        assert_eq!(d[0].error.as_deref(), Some("400 bad"));
    }
    let (status, message) = board(&health);
    assert_eq!(status, HealthStatus::Unhealthy);
    assert!(
        message.contains("3 deliveries in a row failed"),
        "{message}"
    );
}

#[tokio::test]
async fn a_channel_with_nobody_to_reach_skips_without_going_unhealthy() {
    let (_d, n, health, ch) = setup(
        u32::MAX,
        ChannelError::NotConfigured("no browser subscribed".into()),
    );
    for _ in 0..4 {
        let note = n.create(draft(None), None);
        let out = n.outgoing(&note, ch.as_ref(), None, SystemTime::now());
        assert!(n.deliver(ch.clone(), out).await.is_err());
        let (_, d) = n.get(&note.id).expect("remembered");
        assert_eq!(d[0].status, DeliveryStatus::Skipped);
    }
    assert_eq!(board(&health).0, HealthStatus::Healthy);
}

#[test]
fn the_cooldown_holds_a_rule_per_session() {
    let (_d, n, _h, _c) = setup(0, ChannelError::Transient(String::new()));
    assert!(n.cooldown_allows("waiting_input", "s1"));
    assert!(!n.cooldown_allows("waiting_input", "s1"));
    assert!(n.cooldown_allows("waiting_input", "s2"));
    assert!(n.cooldown_allows("errored", "s1"));
}
