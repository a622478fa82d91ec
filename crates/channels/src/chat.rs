//! Slack and Discord incoming webhooks: the notification laid out for each (Slack Block Kit:
//! a header, the text, a link button; Discord: an embed), with a link into the UI instead of
//! Approve / Deny (a chat channel's history is read by others, so it carries no action
//! tokens). Discord's message is edited when its request is answered ("Allowed by ...");
//! Slack's incoming webhooks cannot edit what they posted, so it stays.

use crate::{http, lines, secret, SetupError};
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::ChatWebhookConfig;
use paddock_core::notify::{
    BoxFuture, Capabilities, Channel, ChannelError, NotificationKind, Outgoing, Receipt, Withdrawal,
};
use serde_json::{json, Value};

/// Which chat service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Slack,
    Discord,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Slack => "slack",
            Service::Discord => "discord",
        }
    }

    fn display(self) -> &'static str {
        match self {
            Service::Slack => "Slack",
            Service::Discord => "Discord",
        }
    }
}

/// A chat webhook channel.
pub struct Chat {
    service: Service,
    url: Secret,
    client: reqwest::Client,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("service", &self.service)
            .field("url", &self.url)
            .finish()
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` are markup.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Chat {
    pub fn new(service: Service, config: &ChatWebhookConfig) -> Result<Self, SetupError> {
        let name = service.name();
        let url = secret::require(
            name,
            "webhook_url",
            &config.webhook_url,
            config.webhook_url_file.as_deref(),
        )?;
        if !url.expose().starts_with("https://") && !url.expose().starts_with("http://") {
            return Err(SetupError::new(
                name,
                "webhook_url is not a URL; copy it from the service's incoming webhook settings",
            ));
        }
        Ok(Self {
            service,
            url,
            client: http::client(name, None, false)?,
        })
    }

    /// Slack's Block Kit message.
    pub fn slack_payload(out: &Outgoing) -> Value {
        let (title, body) = lines(out);
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": cut(&title, 150), "emoji": true}}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&slack_escape(&body), 3000)}}),
        ];
        if let Some(link) = out.link_url() {
            let label = if out.notification.kind == NotificationKind::Permission {
                "Answer in Paddock"
            } else {
                "Open in Paddock"
            };
            blocks.push(json!({"type": "actions", "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": label},
                "url": link,
                "action_id": "open",
            }]}));
        }
        json!({"text": cut(&format!("{title}: {body}"), 3000), "blocks": blocks})
    }

    /// Discord's embed; `answered` replaces the description's end when the request was
    /// answered.
    pub fn discord_payload(out: &Outgoing, answered: Option<&str>) -> Value {
        let n = &out.notification;
        let (title, body) = lines(out);
        let colour = match (answered, n.kind) {
            (Some(_), _) => 0x95a5a6,
            (None, NotificationKind::Permission) => 0xf1c40f,
            (None, NotificationKind::Errored | NotificationKind::ExitedAbnormally) => 0xe74c3c,
            (None, _) => 0x3498db,
        };
        let description = match answered {
            Some(text) => format!("{body}\n\n**{text}**"),
            None => body,
        };
        let mut embed = json!({
            "title": cut(&title, 256),
            "description": cut(&description, 4096),
            "color": colour,
            "footer": {"text": "Paddock"},
            "timestamp": n.created_at,
        });
        if let Some(link) = out.link_url() {
            embed["url"] = link.into();
        }
        if let Some(tool) = &n.tool {
            embed["fields"] = json!([{"name": "Tool", "value": cut(tool, 1024), "inline": true}]);
        }
        json!({"embeds": [embed], "allowed_mentions": {"parse": []}})
    }
}

impl Channel for Chat {
    fn name(&self) -> &str {
        self.service.name()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: false,
            withdraw: self.service == Service::Discord,
            reply_text: false,
            remote: true,
        }
    }

    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            let service = self.service.display();
            let request = match self.service {
                Service::Slack => self
                    .client
                    .post(self.url.expose())
                    .json(&Self::slack_payload(out)),
                Service::Discord => self
                    .client
                    .post(self.url.expose())
                    .query(&[("wait", "true")])
                    .json(&Self::discord_payload(out, None)),
            };
            let response = request
                .send()
                .await
                .map_err(|e| http::send_error(service, &e.without_url()))?;
            let body = http::read(service, response).await?;
            Ok(match self.service {
                Service::Slack => Receipt::default(),
                Service::Discord => {
                    let id = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["id"].as_str().map(str::to_owned));
                    Receipt {
                        detail: id.as_ref().map(|i| format!("message {i}")),
                        remote_ids: id.into_iter().collect(),
                    }
                }
            })
        })
    }

    fn withdraw<'a>(
        &'a self,
        out: &'a Outgoing,
        receipt: &'a Receipt,
        why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            if self.service != Service::Discord {
                return Ok(());
            }
            let base = self.url.expose().split('?').next().unwrap_or_default();
            for id in &receipt.remote_ids {
                let response = self
                    .client
                    .patch(format!("{}/messages/{id}", base.trim_end_matches('/')))
                    .json(&Self::discord_payload(out, Some(&why.text)))
                    .send()
                    .await
                    .map_err(|e| http::send_error("Discord", &e.without_url()))?;
                http::read("Discord", response).await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_services_limits_and_slack_markup_is_escaped() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(slack_escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }

    #[test]
    fn a_webhook_url_is_required_and_must_be_one() {
        let none = Chat::new(Service::Slack, &ChatWebhookConfig::default()).expect_err("none");
        assert!(none.to_string().starts_with("[notify.slack]"), "{none}");
        let bad = ChatWebhookConfig {
            enabled: true,
            webhook_url: Secret::new("hooks.slack.com/x"),
            webhook_url_file: None,
        };
        assert!(Chat::new(Service::Discord, &bad).is_err());
        let ok = ChatWebhookConfig {
            webhook_url: Secret::new("https://discord.com/api/webhooks/1/abc"),
            ..bad
        };
        let chat = Chat::new(Service::Discord, &ok).expect("valid");
        assert!(!format!("{chat:?}").contains("abc"), "the URL is a secret");
    }
}
