//! Email against a real SMTP server on loopback (aiosmtpd, installed by
//! scripts/install-smtp-server.sh): STARTTLS required and AUTH checked, then TLS from the
//! first byte; a certificate the channel trusts through `ca_file`.

use super::support::{cert, permission, Cert};
use paddock_channels::email::Email;
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::{EmailConfig, SmtpSecurity};
use paddock_core::notify::{Channel, ChannelError};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

const WAIT: Duration = Duration::from_secs(20);

/// The venv scripts/install-smtp-server.sh makes.
fn python() -> PathBuf {
    let cache = std::env::var_os("PADDOCK_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("paddock")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/paddock")))
        .expect("a cache directory");
    let python = cache.join("aiosmtpd-1.4.6/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-smtp-server.sh (scripts/test.sh does)",
        python.display()
    );
    python
}

pub struct Smtp {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub port: u16,
}

impl Smtp {
    pub async fn start(mode: &str, cert: &Cert) -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/loopback/smtp_server.py");
        let mut child = tokio::process::Command::new(python())
            .arg(script)
            .arg(mode)
            .arg(&cert.pem_file)
            .arg(&cert.key_file)
            .args(["paddock", "s3cret-pass"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("aiosmtpd starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = Self::next(&mut lines).await;
        let port = first["port"].as_u64().expect("the server says its port") as u16;
        Self {
            _child: child,
            lines,
            port,
        }
    }

    async fn next(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the SMTP server answers in time")
            .expect("read")
            .expect("a line");
        serde_json::from_str(&line).expect("JSON")
    }

    pub async fn received(&mut self) -> Value {
        Self::next(&mut self.lines).await
    }
}

pub fn config(port: u16, security: SmtpSecurity, password: &str, cert: &Cert) -> EmailConfig {
    EmailConfig {
        enabled: true,
        host: "127.0.0.1".into(),
        port,
        security,
        username: Some("paddock".into()),
        password: Secret::new(password),
        password_file: None,
        from: "Paddock <paddock@example.test>".into(),
        to: vec!["owner@example.test".into()],
        ca_file: Some(cert.pem_file.clone()),
    }
}

#[tokio::test]
async fn mail_goes_out_over_starttls_with_auth_and_a_wrong_password_says_what_to_check() {
    let cert = cert();
    let mut server = Smtp::start("starttls", &cert).await;
    let channel = Email::new(&config(
        server.port,
        SmtpSecurity::Starttls,
        "s3cret-pass",
        &cert,
    ))
    .expect("channel");
    channel.deliver(&permission()).await.expect("sent");
    let got = server.received().await;
    assert_eq!(got["mail_from"], "paddock@example.test");
    assert_eq!(got["rcpt_tos"], serde_json::json!(["owner@example.test"]));
    assert_eq!(got["authenticated"], true);
    let data = got["data"].as_str().unwrap_or("");
    assert!(
        data.contains("Subject: api-refactor asks to run Bash"),
        "{data}"
    );
    assert!(data.contains("rm -rf target && cargo test <all>"), "{data}");
    assert!(
        data.contains("Open in Paddock: https://box.tailnet.test:7420/#/sessions/s7?request=p3"),
        "{data}"
    );
    assert!(!data.contains("pna_"), "no action token in mail");

    let wrong =
        Email::new(&config(server.port, SmtpSecurity::Starttls, "guess", &cert)).expect("channel");
    let err = wrong.deliver(&permission()).await.expect_err("refused");
    assert!(matches!(err, ChannelError::Rejected(_)), "{err:?}");
    assert!(
        err.to_string().contains("check username and password"),
        "{err}"
    );
}

#[tokio::test]
async fn mail_goes_out_over_tls_from_the_first_byte_and_an_untrusted_certificate_is_refused() {
    let cert = cert();
    let mut server = Smtp::start("tls", &cert).await;
    let channel = Email::new(&config(
        server.port,
        SmtpSecurity::Tls,
        "s3cret-pass",
        &cert,
    ))
    .expect("channel");
    channel.deliver(&permission()).await.expect("sent");
    let got = server.received().await;
    assert_eq!(got["authenticated"], true);
    assert!(got["data"]
        .as_str()
        .unwrap_or("")
        .contains("Subject: api-refactor asks to run Bash"));

    let mut untrusted = config(server.port, SmtpSecurity::Tls, "s3cret-pass", &cert);
    untrusted.ca_file = None;
    let err = Email::new(&untrusted)
        .expect("channel")
        .deliver(&permission())
        .await
        .expect_err("untrusted");
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("ca_file"), "{err}");
}
