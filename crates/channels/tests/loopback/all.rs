//! Every channel at once, as `paddock up` builds them from `[notify.*]`: each answers the
//! test notification (`paddock notifications test <name>`) through its loopback server, and
//! a section that cannot be used is on the health board saying what to fix.

use super::ntfy_server::FakeNtfy;
use super::support::cert;
use super::{chat, email, push, webhook};
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::{NtfyConfig, SmtpSecurity};
use paddock_core::notify::DeliveryStatus;
use paddock_proto::supervisor::HealthStatus;

const CHANNELS: [&str; 7] = [
    "ntfy", "slack", "discord", "webhook", "email", "apns", "fcm",
];

fn start(
    notify: paddock_core::notify::config::NotifyConfig,
) -> (tempfile::TempDir, paddock_core::Supervisor) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = paddock_core::Config {
        data_dir: Some(tmp.path().join("data")),
        notify,
        ..Default::default()
    };
    let dir = paddock_host::RuntimeDir::open(tmp.path().join("run")).expect("runtime dir");
    let sup = paddock_core::Supervisor::start(config, tmp.path().join("config.toml"), dir)
        .expect("supervisor");
    paddock_channels::start(sup.handle());
    (tmp, sup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configured_channel_delivers_the_test_notification_to_its_service() {
    let cert = cert();
    let ntfy = FakeNtfy::start(None).await;
    let (slack, slack_seen) = chat::slack_server().await;
    let (discord, discord_seen) = chat::discord_server().await;
    let (hook, hook_seen) = webhook::receiver_server().await;
    let mut smtp = email::Smtp::start("starttls", &cert).await;
    let (mut apns, apns_seen, apns_task) = push::apns_server(&cert).await;
    apns.devices = vec![push::DEVICE.into()];
    let (fcm, fcm_seen, _fcm_server) = push::fcm_server(cert.dir.path()).await;

    let mut notify = paddock_core::notify::config::NotifyConfig {
        public_url: Some("https://box.tailnet.test:7420".into()),
        ..Default::default()
    };
    notify.ntfy = NtfyConfig {
        enabled: true,
        url: ntfy.url(),
        topic: "paddock_all".into(),
        token: Secret::default(),
        ..Default::default()
    };
    notify.slack = chat::config(format!("{}/services/T0001/B0001/secretkey", slack.url()));
    notify.discord = chat::config(format!("{}/api/webhooks/42/whtoken", discord.url()));
    notify.webhook = webhook::config(format!("{}/hook", hook.url()), webhook::SECRET);
    notify.email = email::config(smtp.port, SmtpSecurity::Starttls, "s3cret-pass", &cert);
    notify.apns = apns;
    notify.fcm = fcm;
    let (_tmp, sup) = start(notify);
    let handle = sup.handle().clone();

    for name in CHANNELS {
        let view = handle
            .test_notify_channel(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (view.channel.as_str(), view.status),
            (name, DeliveryStatus::Delivered)
        );
    }
    const TITLE: &str = "Paddock test notification";
    assert_eq!(ntfy.messages("paddock_all")[0]["title"], TITLE);
    assert_eq!(
        slack_seen.lock().expect("lock")[0]["blocks"][0]["text"]["text"],
        TITLE
    );
    assert_eq!(
        discord_seen.posted.lock().expect("lock")[0]["embeds"][0]["title"],
        TITLE
    );
    assert_eq!(
        hook_seen.lock().expect("lock")[0].1["notification"]["title"],
        TITLE
    );
    let mail = smtp.received().await;
    assert!(
        mail["data"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("Subject: {TITLE}")),
        "{mail}"
    );
    assert_eq!(
        apns_seen.seen.lock().expect("lock")[0].1["aps"]["alert"]["title"],
        TITLE
    );
    assert_eq!(
        fcm_seen.sent.lock().expect("lock")[0]["message"]["notification"]["title"],
        TITLE
    );
    let board = handle.health().components();
    for name in CHANNELS {
        let entry = board
            .iter()
            .find(|c| c.name == format!("notify.{name}"))
            .unwrap_or_else(|| panic!("notify.{name} on the health board"));
        assert_eq!(entry.status, HealthStatus::Healthy, "{entry:?}");
    }
    sup.stop().await;
    apns_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_section_that_cannot_be_used_is_unhealthy_saying_what_to_fix_and_the_others_run() {
    let (slack, _seen) = chat::slack_server().await;
    let mut notify = paddock_core::notify::config::NotifyConfig {
        slack: chat::config(format!("{}/services/T0001/B0001/secretkey", slack.url())),
        ..Default::default()
    };
    notify.email.enabled = true;
    notify.email.host = "smtp.example.com".into();
    notify.email.from = "paddock@example.com".into();
    let (_tmp, sup) = start(notify);
    let handle = sup.handle().clone();
    let board = handle.health().components();
    let email = board
        .iter()
        .find(|c| c.name == "notify.email")
        .expect("notify.email on the board");
    assert_eq!(email.status, HealthStatus::Unhealthy);
    assert_eq!(
        email.message,
        "[notify.email] to is empty: give at least one recipient"
    );
    let err = handle
        .test_notify_channel("email")
        .await
        .expect_err("not running");
    assert!(
        err.to_string().contains("the configured ones: slack"),
        "{err}"
    );
    handle
        .test_notify_channel("slack")
        .await
        .expect("slack still runs");
    sup.stop().await;
}
