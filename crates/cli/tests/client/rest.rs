//! REST and events: an expired access token refreshed, a revoked device told, and the event
//! stream.

use crate::support::Paired;
use paddock_proto::supervisor::SessionView;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_a_revoked_device_is_told() {
    let paired = Paired::new("viewer").await;
    let (env, hosts, host) = (&paired.env, &paired.hosts, &paired.host);
    let key = host.device_id.0.clone();
    let before = hosts
        .secrets()
        .load(&key)
        .await
        .expect("load")
        .expect("tokens");
    // An access token the host no longer accepts (as after its 15 minutes).
    let mut stale = before.clone();
    stale.access_token = "expired".into();
    hosts.secrets().save(&key, &stale).await.expect("save");
    let client = paired.client();
    let _: Vec<SessionView> = client
        .get("/sessions")
        .await
        .expect("refreshed and retried");
    let after = hosts
        .secrets()
        .load(&key)
        .await
        .expect("load")
        .expect("tokens");
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "the refresh token rotated"
    );
    assert_ne!(after.access_token, "expired");

    env.ok(&["devices", "revoke", &key]);
    let err = client
        .get::<Vec<SessionView>>("/sessions")
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), "revoked", "{err}");
}

#[tokio::test]
async fn events_start_with_every_session_then_follow_the_host() {
    let paired = Paired::new("viewer").await;
    let env = &paired.env;
    let client = paired.client();
    let mut events = client.events().await.expect("subscribe");
    let deadline = Instant::now() + Duration::from_secs(30);
    match next(&mut events, deadline).await {
        paddock_client::HostEvent::Resync { sessions } => assert!(sessions.is_empty()),
        other => panic!("expected resync first, got {other:?}"),
    }
    let id = env.run(&["--name", "watched"], &["sleep", "60"]);
    loop {
        if let paddock_client::HostEvent::Event { kind, payload } =
            next(&mut events, deadline).await
        {
            if kind == "session_update" && payload["session"]["id"] == id.as_str() {
                assert_eq!(payload["session"]["name"], "watched");
                break;
            }
        }
    }
}

async fn next(
    events: &mut paddock_client::EventStream,
    deadline: Instant,
) -> paddock_client::HostEvent {
    tokio::time::timeout_at(deadline.into(), events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open")
        .expect("no error")
}
