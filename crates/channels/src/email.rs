//! Email over SMTP (lettre, rustls): STARTTLS (refused if the server does not offer it) or TLS
//! from the first byte, with AUTH PLAIN or LOGIN when a username is set. A message is plain
//! text: what happened, and a link into the UI (mail carries no action tokens: it is
//! forwarded, archived and scanned). Mail cannot be taken back.

use crate::{lines, secret, SetupError};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use paddock_core::notify::remote_config::{EmailConfig, SmtpSecurity};
use paddock_core::notify::{BoxFuture, Capabilities, Channel, ChannelError, Outgoing, Receipt};
use std::time::Duration;

const NAME: &str = "email";
/// lettre's own limit per SMTP command; the notifier's attempt timeout bounds the whole.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// The email channel.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    server: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .finish()
    }
}

impl Email {
    pub fn new(config: &EmailConfig) -> Result<Self, SetupError> {
        let err = |p: String| SetupError::new(NAME, p);
        if config.host.trim().is_empty() {
            return Err(err(
                "host is empty: set the SMTP server, e.g. `smtp.example.com`".into(),
            ));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| err(format!("from `{}` is not an address: {e}", config.from)))?;
        if config.to.is_empty() {
            return Err(err("to is empty: give at least one recipient".into()));
        }
        let to = config
            .to
            .iter()
            .map(|t| {
                t.parse()
                    .map_err(|e| err(format!("to `{t}` is not an address: {e}")))
            })
            .collect::<Result<Vec<Mailbox>, _>>()?;
        let mut tls = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| err(format!("ca_file {} cannot be read: {e}", path.display())))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                err(format!(
                    "ca_file {} is not a PEM certificate: {e}",
                    path.display()
                ))
            })?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls
            .build_rustls()
            .map_err(|e| err(format!("cannot set up TLS for {}: {e}", config.host)))?;
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
                .port(config.port)
                .timeout(Some(COMMAND_TIMEOUT))
                .tls(match config.security {
                    SmtpSecurity::Starttls => Tls::Required(tls),
                    SmtpSecurity::Tls => Tls::Wrapper(tls),
                });
        if let Some(user) = &config.username {
            let password = secret::require(
                NAME,
                "password",
                &config.password,
                config.password_file.as_deref(),
            )?;
            builder = builder
                .credentials(Credentials::new(user.clone(), password.expose().to_owned()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            to,
            server: format!("{}:{}", config.host, config.port),
        })
    }

    /// The message for one notification.
    pub fn message(&self, out: &Outgoing) -> Result<Message, ChannelError> {
        let (title, body) = lines(out);
        let mut text = format!("{body}\n");
        if let Some(link) = out.link_url() {
            text.push_str(&format!("\nOpen in Paddock: {link}\n"));
        }
        text.push_str(
            "\n-- \nSent by Paddock. Change what notifies you in Settings, Notifications.\n",
        );
        let mut m = Message::builder()
            .from(self.from.clone())
            .subject(title)
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            m = m.to(to.clone());
        }
        m.body(text)
            .map_err(|e| ChannelError::Rejected(format!("cannot write the message: {e}")))
    }
}

/// What an SMTP failure means for the owner, and whether to try again.
fn smtp_error(server: &str, e: &lettre::transport::smtp::Error) -> ChannelError {
    let text = format!("{server}: {}", crate::http::chain(e));
    if e.is_permanent() {
        let hint = match e.status().map(|c| c.to_string()) {
            Some(c) if c.starts_with("535") || c.starts_with("530") => {
                "; check username and password in [notify.email]"
            }
            _ => "",
        };
        ChannelError::Rejected(format!("the mail server refused: {text}{hint}"))
    } else if e.is_tls() || text.contains("certificate") {
        ChannelError::Rejected(format!(
            "no secure connection to the mail server ({text}); check `security`, `port` and `ca_file`"
        ))
    } else {
        ChannelError::Transient(format!(
            "the mail server could not take the message: {text}"
        ))
    }
}

impl Channel for Email {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: false,
            withdraw: false,
            reply_text: false,
            remote: true,
        }
    }

    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            let message = self.message(out)?;
            let response = self
                .transport
                .send(message)
                .await
                .map_err(|e| smtp_error(&self.server, &e))?;
            Ok(Receipt {
                remote_ids: Vec::new(),
                detail: Some(format!(
                    "{} recipient(s): {}",
                    self.to.len(),
                    response.message().collect::<Vec<_>>().join(" ")
                )),
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, ChannelError>> {
        Box::pin(async move {
            match self.transport.test_connection().await {
                Ok(true) => Ok(format!("{} answers", self.server)),
                Ok(false) => Err(ChannelError::Transient(format!(
                    "{} does not answer",
                    self.server
                ))),
                Err(e) => Err(smtp_error(&self.server, &e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_the_server_are_checked_when_the_channel_is_made() {
        let good = EmailConfig {
            enabled: true,
            host: "smtp.example.com".into(),
            from: "Paddock <paddock@example.com>".into(),
            to: vec!["owner@example.com".into()],
            ..Default::default()
        };
        Email::new(&good).expect("valid");
        let e = Email::new(&EmailConfig {
            to: vec!["not an address".into()],
            ..good.clone()
        })
        .expect_err("bad to");
        assert!(e.to_string().contains("`not an address`"), "{e}");
        let e = Email::new(&EmailConfig {
            username: Some("u".into()),
            ..good
        })
        .expect_err("no password");
        assert!(e.to_string().contains("password_file"), "{e}");
    }
}
