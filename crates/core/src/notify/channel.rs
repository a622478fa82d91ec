//! The seam every channel plugs into (see the contract in [`super`]'s header): what a channel
//! is given ([`Outgoing`]: the notification with this channel's own single-use action
//! tokens), what it must do (deliver, withdraw or update, say whether it is healthy), and how
//! a channel that hears answers hands an action token back ([`Answers::redeem`]).

use super::model::{Notification, NotificationAction};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A boxed future, so that channels can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a channel can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Buttons on the notification itself (desktop actions, Web Push `actions`, ntfy actions).
    pub actions: bool,
    /// A delivered notification can be taken back or replaced (desktop close, Web Push tag,
    /// ntfy clear). Without it, an answered request's notification simply stays.
    pub withdraw: bool,
    /// The owner can type a message with an action (a deny's reason).
    pub reply_text: bool,
    /// A push channel: reaches the owner away from the desk. Presence holds these back while
    /// the owner is present, and escalates to them after `presence.escalate_after`.
    pub remote: bool,
}

/// One action of one notification, as one channel carries it.
#[derive(Clone)]
pub struct ActionLink {
    pub action: NotificationAction,
    /// The single-use token that answers the request, bound to this action's decision, this
    /// channel and an expiry. A channel whose answers come back to the host (D-Bus
    /// `ActionInvoked`, a reply topic) passes it to [`Answers::redeem`]; one whose buttons
    /// are URLs uses [`ActionLink::url`].
    pub token: String,
    /// `<public_url>/#act=<token>`: the UI shows what will be answered and redeems it with
    /// one tap (the token is in the fragment, which browsers never send to a server or log).
    /// `None` when the endpoint does not serve.
    pub url: Option<String>,
}

impl std::fmt::Debug for ActionLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionLink")
            .field("action", &self.action.key)
            .field("token", &"***")
            .finish()
    }
}

/// What a channel is given to deliver.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub notification: Arc<Notification>,
    /// This channel's tokens for the notification's actions (empty when it has none, or
    /// when the channel cannot carry actions).
    pub actions: Vec<ActionLink>,
    /// Where the UI is (`public_url` or the endpoint's URL), if anywhere.
    pub base_url: Option<String>,
    /// A stable tag for this notification (`paddock-<id>`): a later message with the same
    /// tag replaces it where the channel allows.
    pub tag: String,
    /// Makes tokens bound to one device, for channels that reach several (see
    /// [`Outgoing::actions_for_device`]).
    pub(crate) issuer: Option<Issuer>,
}

/// What [`Outgoing::actions_for_device`] needs to make more tokens.
#[derive(Clone)]
pub(crate) struct Issuer {
    pub tokens: super::tokens::ActionTokens,
    pub channel: String,
    pub expires: std::time::SystemTime,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issuer")
    }
}

impl Outgoing {
    /// An outgoing notification made by hand (channel tests, a channel's own previews):
    /// its actions are the links given, and [`Outgoing::actions_for_device`] returns them.
    pub fn new(
        notification: Notification,
        actions: Vec<ActionLink>,
        base_url: Option<String>,
    ) -> Self {
        Self {
            tag: format!("paddock-{}", notification.id),
            notification: Arc::new(notification),
            actions,
            base_url,
            issuer: None,
        }
    }

    /// The actions with tokens bound to `device` as well (a channel that reaches several
    /// devices, like Web Push, gives each its own: the audit log then says which device
    /// answered, and one device's token cannot be replayed from another).
    pub fn actions_for_device(&self, device: &str) -> Vec<ActionLink> {
        let Some(issuer) = &self.issuer else {
            return self.actions.clone();
        };
        self.actions
            .iter()
            .filter_map(|a| {
                let token = issuer
                    .tokens
                    .issue(super::tokens::Binding {
                        notification: self.notification.id.clone(),
                        request: self.notification.request.clone().unwrap_or_default(),
                        decision: a.action.decision.clone(),
                        channel: issuer.channel.clone(),
                        device: Some(device.to_owned()),
                        expires: issuer.expires,
                    })
                    .ok()?;
                let url = self
                    .base_url
                    .as_deref()
                    .map(|b| format!("{}/#act={token}", b.trim_end_matches('/')));
                Some(ActionLink {
                    action: a.action.clone(),
                    token,
                    url,
                })
            })
            .collect()
    }

    /// The notification's link made absolute, when the UI is reachable.
    pub fn link_url(&self) -> Option<String> {
        let base = self.base_url.as_deref()?;
        Some(format!(
            "{}{}",
            base.trim_end_matches('/'),
            self.notification.link
        ))
    }
}

/// What a channel keeps about a delivered notification, to withdraw or update it later
/// (the D-Bus notification id, an ntfy message id, a Web Push subscription list...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Receipt {
    pub remote_ids: Vec<String>,
    /// Words for the delivery log (`3 subscriptions`, `id 17`).
    pub detail: Option<String>,
}

/// Why a notification is being withdrawn: channels that can update instead of closing may
/// show `text` ("Allowed by desktop at 15:02").
#[derive(Debug, Clone, PartialEq)]
pub struct Withdrawal {
    pub text: String,
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChannelError {
    /// Worth another try (network, 5xx, 429).
    #[error("{0}")]
    Transient(String),
    /// Another try would fail the same way (4xx, a malformed message).
    #[error("{0}")]
    Rejected(String),
    /// The channel is not set up (no bus, no subscription, a missing key): says what to do.
    #[error("{0}")]
    NotConfigured(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl ChannelError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ChannelError::Transient(_) | ChannelError::Timeout(_))
    }
}

/// A way to reach the owner. Implementations live beside core (`paddock-notify`) or in the
/// app; core only calls this trait.
pub trait Channel: Send + Sync + 'static {
    /// Stable, lowercase: `desktop`, `web_push`, `ntfy`, `slack`, ... (config section, log,
    /// health board `notify.<name>`, `paddock notifications test <name>`).
    fn name(&self) -> &str;

    fn capabilities(&self) -> Capabilities;

    /// Shows one notification. Called with a timeout (`attempt_timeout`) and retried with
    /// backoff while the error [`ChannelError::is_retryable`].
    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>>;

    /// Takes back (or updates with `why.text`) a notification this channel delivered.
    fn withdraw<'a>(
        &'a self,
        out: &'a Outgoing,
        receipt: &'a Receipt,
        why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        let _ = (out, receipt, why);
        Box::pin(async { Ok(()) })
    }

    /// Whether it can deliver now, in words (`3 subscriptions`, `notification server: dunst
    /// 1.9`); shown on the health board beside the delivery results.
    fn check(&self) -> BoxFuture<'_, Result<String, ChannelError>> {
        Box::pin(async { Ok("ready".to_owned()) })
    }

    /// Runs while the supervisor runs, for channels that hear answers (D-Bus
    /// `ActionInvoked`, an ntfy reply topic): hands each action token to
    /// [`Answers::redeem`]. Returns when `shutdown` turns true. The default hears nothing.
    fn listen(
        self: Arc<Self>,
        answers: Answers,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        let _ = (answers, shutdown);
        Box::pin(async {})
    }
}

/// How a channel hands back an action the owner took. Cheap to clone.
#[derive(Clone)]
pub struct Answers {
    pub(crate) handle: crate::supervisor::Handle,
}

impl Answers {
    /// Redeems an action token heard by `channel` (its binding must name that channel):
    /// checks it (single use, not expired), then answers the request through the permission
    /// registry (first answer wins; a late one is told who answered and when) and audits it.
    /// `message` is a deny's reason typed with it, where the channel lets the owner type one.
    pub async fn redeem(
        &self,
        channel: &str,
        token: &str,
        message: Option<String>,
    ) -> Result<super::Redeemed, super::RedeemError> {
        super::redeem(&self.handle, token, Some(channel), message).await
    }
}
