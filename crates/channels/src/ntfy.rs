//! ntfy (ntfy.sh or a self-hosted server). A notification is published as JSON to the
//! owner's topic, with its Approve / Deny as ntfy `http` action buttons. The phone never has
//! to reach the host: a button publishes its single-use action token to a reply topic on the
//! same ntfy server, and the host, subscribed to that topic (ntfy's JSON stream), hands the
//! token to the notifier to redeem. A press that comes too late (answered elsewhere, used,
//! expired) gets a short message on the owner's topic saying why. When a request is answered
//! anywhere, its message is cleared from the phones (`PUT /<topic>/<id>/clear`, ntfy 2.16 and
//! newer, by the message id used as the sequence id).

use crate::{http, lines, secret, SetupError};
use futures_util::StreamExt;
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::NtfyConfig;
use paddock_core::notify::{
    Answers, BoxFuture, Capabilities, Channel, ChannelError, NotificationKind, Outgoing, Receipt,
    Withdrawal,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Actions ntfy accepts on one message.
const MAX_ACTIONS: usize = 3;

const NAME: &str = "ntfy";
/// ntfy sends a keepalive every 45 s; a stream silent this long is dead.
const SILENCE: Duration = Duration::from_secs(120);
/// The longest wait before subscribing again after a failure.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The ntfy channel.
pub struct Ntfy {
    url: String,
    topic: String,
    reply_topic: String,
    token: Option<Secret>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Ntfy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ntfy")
            .field("url", &self.url)
            .field("topic", &self.topic)
            .field("reply_topic", &self.reply_topic)
            .field("token", &self.token)
            .finish()
    }
}

/// ntfy's topic names: `[-_A-Za-z0-9]{1,64}`.
fn valid_topic(t: &str) -> bool {
    (1..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Ntfy {
    pub fn new(config: &NtfyConfig) -> Result<Self, SetupError> {
        let url = config.url.trim().trim_end_matches('/').to_owned();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(SetupError::new(
                NAME,
                format!("url `{url}` is not an http(s) URL; e.g. `https://ntfy.sh`"),
            ));
        }
        if !valid_topic(&config.topic) {
            return Err(SetupError::new(
                NAME,
                format!(
                    "topic `{}` is not a valid ntfy topic: 1 to 64 letters, digits, `-` or `_` (and hard to guess)",
                    config.topic
                ),
            ));
        }
        let reply_topic = config
            .reply_topic
            .clone()
            .unwrap_or_else(|| format!("{}-answers", config.topic));
        if !valid_topic(&reply_topic) || reply_topic == config.topic {
            return Err(SetupError::new(
                NAME,
                format!(
                    "reply_topic `{reply_topic}` must be a valid ntfy topic other than `topic`"
                ),
            ));
        }
        Ok(Self {
            url,
            topic: config.topic.clone(),
            reply_topic,
            token: secret::load(NAME, "token", &config.token, config.token_file.as_deref())?,
            client: http::client(NAME, config.ca_file.as_deref(), false)?,
        })
    }

    fn authorise(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => request.bearer_auth(t.expose()),
            None => request,
        }
    }

    /// The JSON message for one notification.
    pub fn message(&self, out: &Outgoing) -> Value {
        let n = &out.notification;
        let (title, body) = lines(out);
        // ntfy refuses a message with more than 3 actions: the first 3 (a question's first
        // options before Deny; Approve and Deny otherwise).
        let mut actions: Vec<Value> = out
            .actions
            .iter()
            .take(MAX_ACTIONS)
            .map(|a| {
                let mut headers = serde_json::Map::new();
                if let Some(t) = &self.token {
                    headers.insert(
                        "Authorization".into(),
                        format!("Bearer {}", t.expose()).into(),
                    );
                }
                json!({
                    "action": "http",
                    "label": a.action.label,
                    "url": format!("{}/{}", self.url, self.reply_topic),
                    "method": "POST",
                    "headers": headers,
                    "body": a.token,
                    "clear": true,
                })
            })
            .collect();
        if let Some(link) = out.link_url() {
            if actions.len() < MAX_ACTIONS {
                actions.push(json!({"action": "view", "label": "Open", "url": link}));
            }
        }
        let mut m = json!({
            "topic": self.topic,
            "title": title,
            "message": body,
            "priority": if n.kind == NotificationKind::Permission { 4 } else { 3 },
            "tags": ["paddock"],
            "actions": actions,
        });
        if let Some(link) = out.link_url() {
            m["click"] = link.into();
        }
        m
    }

    async fn publish(&self, message: &Value) -> Result<String, ChannelError> {
        let response = self
            .authorise(self.client.post(&self.url).json(message))
            .send()
            .await
            .map_err(|e| http::send_error("ntfy", &e))?;
        let body = http::read("ntfy", response).await?;
        let answer: Value = serde_json::from_str(&body).map_err(|_| {
            ChannelError::Rejected(format!(
                "{} did not answer like an ntfy server (no JSON message); check `url`",
                self.url
            ))
        })?;
        answer["id"].as_str().map(str::to_owned).ok_or_else(|| {
            ChannelError::Rejected("the ntfy server's answer has no message id".into())
        })
    }

    /// Subscribes to the reply topic once: redeems every token it hears until the stream ends
    /// or `shutdown`. `since` is where to resume (a message id or a unix time), and moves on.
    async fn subscribe(
        &self,
        answers: &Answers,
        since: &mut String,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), String> {
        let url = format!("{}/{}/json", self.url, self.reply_topic);
        let response = self
            .authorise(self.client.get(&url).query(&[("since", since.as_str())]))
            .send()
            .await
            .map_err(|e| http::send_error("ntfy", &e).to_string())?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            return Err(http::refusal("ntfy", status, &body).to_string());
        }
        let mut stream = response.bytes_stream();
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let chunk = tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                c = tokio::time::timeout(SILENCE, stream.next()) => c,
            };
            let chunk = match chunk {
                Err(_) => return Err(format!("the reply topic was silent for {SILENCE:?}")),
                Ok(None) => return Err("the ntfy server closed the subscription".into()),
                Ok(Some(Err(e))) => return Err(format!("the subscription broke: {e}")),
                Ok(Some(Ok(c))) => c,
            };
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let Ok(event) = serde_json::from_slice::<Value>(&line) else {
                    continue;
                };
                if event["event"] != "message" {
                    continue;
                }
                if let Some(id) = event["id"].as_str() {
                    *since = id.to_owned();
                }
                let text = event["message"].as_str().unwrap_or("").trim();
                if text.starts_with("pna_") {
                    self.answered(answers, text).await;
                } else {
                    tracing::debug!("ignoring a message on the ntfy reply topic that is no action");
                }
            }
        }
    }

    async fn answered(&self, answers: &Answers, token: &str) {
        match answers.redeem(NAME, token, None).await {
            Ok(r) => {
                tracing::info!(request = %r.request.id, by = %r.by, "answered from an ntfy notification")
            }
            Err(e) => {
                tracing::warn!(error = %e, "an ntfy action was not taken");
                let note = json!({
                    "topic": self.topic,
                    "title": "Not taken",
                    "message": e.to_string(),
                    "priority": 3,
                    "tags": ["paddock"],
                });
                if let Err(e) = self.publish(&note).await {
                    tracing::warn!(error = %e, "could not tell the owner over ntfy that an action was not taken");
                }
            }
        }
    }
}

impl Channel for Ntfy {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: true,
            withdraw: true,
            reply_text: false,
            remote: true,
        }
    }

    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            let id = self.publish(&self.message(out)).await?;
            Ok(Receipt {
                detail: Some(format!("message {id} on {}", self.topic)),
                remote_ids: vec![id],
            })
        })
    }

    fn withdraw<'a>(
        &'a self,
        _out: &'a Outgoing,
        receipt: &'a Receipt,
        _why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            for id in &receipt.remote_ids {
                let url = format!("{}/{}/{id}/clear", self.url, self.topic);
                let response = self
                    .authorise(self.client.put(&url))
                    .send()
                    .await
                    .map_err(|e| http::send_error("ntfy", &e))?;
                if response.status() == reqwest::StatusCode::NOT_FOUND {
                    return Err(ChannelError::Rejected(
                        "this ntfy server cannot clear a message (ntfy 2.16 or newer can); it stays on the phone".into(),
                    ));
                }
                http::read("ntfy", response).await?;
            }
            Ok(())
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, ChannelError>> {
        Box::pin(async move {
            Ok(format!(
                "publishing to {}/{}, answers on {}",
                self.url, self.topic, self.reply_topic
            ))
        })
    }

    fn listen(
        self: Arc<Self>,
        answers: Answers,
        mut shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            // Only answers from now on: older ones were meant for an earlier run.
            let mut since = crate::jwt::now().to_string();
            let mut backoff = Duration::from_secs(1);
            loop {
                let opened = tokio::time::Instant::now();
                match self.subscribe(&answers, &mut since, &mut shutdown).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "the ntfy reply topic is not heard; subscribing again")
                    }
                }
                if opened.elapsed() > MAX_BACKOFF {
                    backoff = Duration::from_secs(1);
                }
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_with_many_options_gets_the_first_three_ntfy_accepts() {
        use paddock_core::notify::{ActionLink, NotificationAction};
        use paddock_core::notify::{Notification, NotificationState};
        let n = Ntfy::new(&NtfyConfig {
            enabled: true,
            topic: "paddock_q".into(),
            ..Default::default()
        })
        .expect("valid");
        let options = ["Red", "Blue", "Green", "Deny"];
        let actions = options
            .iter()
            .enumerate()
            .map(|(i, label)| ActionLink {
                action: NotificationAction {
                    key: format!("answer-{i}"),
                    label: (*label).into(),
                    decision: paddock_proto::agent::Decision::Allow,
                    takes_message: false,
                },
                token: format!("pna_{i}"),
                url: None,
            })
            .collect();
        let notification = Notification {
            id: "n1".into(),
            kind: NotificationKind::Permission,
            rule: "permission".into(),
            session: None,
            session_name: None,
            title: "claude asks you a question".into(),
            body: "Which colour?".into(),
            link: "/#/sessions/s1".into(),
            request: Some("p1".into()),
            tool: Some("AskUserQuestion".into()),
            detail: None,
            actions: vec![],
            created_at: "2026-12-06T16:00:00.000Z".into(),
            state: NotificationState::Pending,
        };
        let out = Outgoing::new(notification, actions, Some("https://box.test".into()));
        let m = n.message(&out);
        let labels: Vec<&str> = m["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a["label"].as_str())
            .collect();
        assert_eq!(labels, ["Red", "Blue", "Green"], "{m:#}");
    }

    #[test]
    fn topics_and_urls_are_checked_before_anything_is_sent() {
        let ok = NtfyConfig {
            enabled: true,
            topic: "paddock_x-1".into(),
            ..Default::default()
        };
        let n = Ntfy::new(&NtfyConfig {
            token: Secret::new("tk_do_not_log"),
            ..ok.clone()
        })
        .expect("valid");
        assert_eq!(n.reply_topic, "paddock_x-1-answers");
        assert!(
            !format!("{n:?}").contains("tk_do_not_log"),
            "the token is redacted"
        );
        let bad = NtfyConfig {
            topic: "has space".into(),
            ..ok.clone()
        };
        let e = Ntfy::new(&bad).expect_err("space");
        assert!(e.to_string().contains("[notify.ntfy] topic"), "{e}");
        let same = NtfyConfig {
            reply_topic: Some("paddock_x-1".into()),
            ..ok.clone()
        };
        assert!(Ntfy::new(&same).is_err());
        let url = NtfyConfig {
            url: "ntfy.sh".into(),
            ..ok
        };
        assert!(Ntfy::new(&url)
            .expect_err("no scheme")
            .to_string()
            .contains("https://ntfy.sh"));
    }
}
