//! The tray kept in step with the supervisor (embedded in the app, or another process's):
//! [`TrayFeed::follow`] asks when [`crate::needs_watch`] says what needs the owner may have
//! changed and hands on a new [`TrayModel`] only when it differs from the one shown, so an
//! idle app redraws nothing. The tray's own requests (Approve / Deny, Pause notifications)
//! go over the same socket as the CLI's, so there is one pause and one answer, and their
//! result is shown as the host says it, not as it was asked. "Pair a device…" asks for an
//! operator pairing offer the same way (`paddock pair`'s request) and keeps it, or why there
//! is none, for the pairing window.
use super::model::TrayModel;
use crate::events::Bus;
use crate::local_client::{LocalClient, LocalError};
use crate::needs_watch::{NeedsSnapshot, NeedsWatch};
use paddock_proto::access::{PairingOffer, Role};
use paddock_proto::agent::Decision;
use std::sync::{Mutex, MutexGuard};

/// Who answered, in a permission's outcome, when it was answered from the tray.
pub const ANSWERED_BY: &str = "the Paddock app (tray)";

/// What the tray last showed, and the host's endpoint (which names it in the UI's routes).
#[derive(Default)]
struct Shown {
    model: TrayModel,
    endpoint: Option<String>,
}

/// The tray's view of one supervisor. Cheap to share behind a reference; see the module
/// header.
pub struct TrayFeed {
    local: LocalClient,
    shown: Mutex<Shown>,
    /// The pairing window's offer, or why there is none.
    offer: Mutex<Result<PairingOffer, String>>,
}

/// What the pairing window says before "Pair a device…" was chosen.
pub const NO_OFFER_YET: &str = "No pairing offer yet: choose Pair a device… in the tray menu.";

impl TrayFeed {
    /// A feed from the supervisor at `local`. `endpoint`: the host's URL when it is known
    /// already (the app runs the endpoint); else the supervisor's status gives it.
    pub fn new(local: LocalClient, endpoint: Option<String>) -> Self {
        Self {
            local,
            shown: Mutex::new(Shown {
                model: TrayModel::default(),
                endpoint,
            }),
            offer: Mutex::new(Err(NO_OFFER_YET.to_owned())),
        }
    }

    fn shown(&self) -> MutexGuard<'_, Shown> {
        self.shown.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The supervisor's socket.
    pub fn local(&self) -> &LocalClient {
        &self.local
    }

    /// What the tray shows now (the host as last asked).
    pub fn model(&self) -> TrayModel {
        self.shown().model.clone()
    }

    /// The host's endpoint URL, once known.
    pub fn endpoint(&self) -> Option<String> {
        self.shown().endpoint.clone()
    }

    /// Asks the supervisor once. `Some(model)` when it differs from the one shown (or always,
    /// with `force`: a native check box that flipped itself on the click must be put back
    /// to what the host says), `None` when the tray stays as it is.
    pub async fn refresh(&self, force: bool) -> Result<Option<TrayModel>, LocalError> {
        let now = NeedsSnapshot::ask(&self.local).await?;
        let model = TrayModel::of(&now);
        let mut shown = self.shown();
        if shown.endpoint.is_none() {
            shown.endpoint.clone_from(&now.status.url);
        }
        if shown.model == model && !force {
            return Ok(None);
        }
        shown.model = model.clone();
        Ok(Some(model))
    }

    /// Like [`TrayFeed::refresh`], for callers with nowhere to report a failure: it is
    /// logged, and the tray keeps what it shows.
    async fn refresh_logged(&self, force: bool) -> Option<TrayModel> {
        match self.refresh(force).await {
            Ok(model) => model,
            Err(e) => {
                tracing::debug!(error = %e, "the tray could not ask the supervisor; it keeps what it shows");
                None
            }
        }
    }

    /// Keeps the tray in step until the supervisor stops: on `bus`'s events when the
    /// supervisor runs in this process, else by polling. `show` gets each changed model.
    pub async fn follow(&self, bus: Option<Bus>, show: impl Fn(TrayModel)) {
        let mut watch = NeedsWatch::new(bus.as_ref());
        // Only the subscription is kept, so the watch ends when the supervisor's bus closes.
        drop(bus);
        loop {
            if let Some(model) = self.refresh_logged(false).await {
                show(model);
            }
            if watch.changed().await.is_none() {
                return;
            }
        }
    }

    /// Pauses the host's notifications (every channel) if the tray shows them running, else
    /// resumes them: the same request as `paddock notifications pause|resume`. Returns the
    /// model to show (always, see [`TrayFeed::refresh`]), `None` if the host cannot be asked.
    pub async fn toggle_pause(&self) -> Option<TrayModel> {
        let paused = !self.model().paused;
        if let Err(e) = self.local.pause_notifications(paused).await {
            tracing::warn!(error = %e, "the host did not take the tray's pause of notifications; the check box shows the host's setting");
        }
        self.refresh_logged(true).await
    }

    /// Asks the supervisor for a new one-time pairing offer for an operator device (the
    /// tray's "Pair a device…") and keeps it, or why there is none, for
    /// [`TrayFeed::pairing_offer`].
    pub async fn new_pairing_offer(&self) {
        let offer = self
            .local
            .pairing(Role::Operator)
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &offer {
            tracing::warn!(error = %e, "no pairing offer for the tray's pairing window");
        }
        *self.offer.lock().unwrap_or_else(|p| p.into_inner()) = offer;
    }

    /// The last pairing offer, or why there is none.
    pub fn pairing_offer(&self) -> Result<PairingOffer, String> {
        self.offer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Answers a permission request as the tray ([`ANSWERED_BY`]). Returns the model to show
    /// if it changed.
    pub async fn answer(&self, request: &str, decision: Decision) -> Option<TrayModel> {
        match self.local.decide(request, decision, ANSWERED_BY).await {
            Ok(()) => tracing::info!(%request, "permission answered from the tray"),
            Err(e) => {
                tracing::warn!(%request, error = %e, "the tray's answer was not taken; answer it in the window or with `paddock approve`")
            }
        }
        self.refresh_logged(false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Supervisor};
    use paddock_host::RuntimeDir;
    use std::sync::Arc;
    use std::time::Duration;

    /// A real supervisor in private directories, and the tray's feed of it over its socket.
    fn host(tmp: &tempfile::TempDir) -> (Supervisor, Arc<TrayFeed>) {
        let runtime = tmp.path().join("run");
        let mut config = Config {
            data_dir: Some(tmp.path().join("data")),
            ..Default::default()
        };
        config.tmux.enabled = false;
        let dir = RuntimeDir::open(runtime.clone()).expect("runtime dir");
        let supervisor =
            Supervisor::start(config, tmp.path().join("config.toml"), dir).expect("supervisor");
        let feed = TrayFeed::new(LocalClient::new(&runtime, "tray-test"), None);
        (supervisor, Arc::new(feed))
    }

    #[tokio::test]
    async fn the_tray_shows_the_hosts_pause_and_only_models_that_changed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (supervisor, feed) = host(&tmp);
        // The tray is made showing an empty model: a host that looks like it (no session,
        // nothing held) needs no redraw, so the first look is forced here.
        assert_eq!(feed.model(), TrayModel::default());
        let first = feed
            .refresh(true)
            .await
            .expect("the supervisor answers")
            .expect("a forced look is always handed on");
        assert!(!first.paused);
        assert_eq!(feed.model(), first);
        // Asked again, only a model that differs from the one shown is handed on (agents
        // elsewhere on this machine may come and go between two questions; none stayed).
        let mut shown = first;
        for _ in 0..3 {
            if let Some(next) = feed.refresh(false).await.expect("answers") {
                assert_ne!(next, shown, "an unchanged tray was handed on to redraw");
                shown = next;
            }
        }

        // The tray's own pause: the host holds notifications, and the tray shows its answer.
        let paused = feed.toggle_pause().await.expect("the host's answer");
        assert!(paused.paused);
        assert!(
            supervisor.handle().notifier().config().paused,
            "the host holds them"
        );
        // And again: resumed.
        assert!(!feed.toggle_pause().await.expect("the host's answer").paused);
        assert!(!supervisor.handle().notifier().config().paused);

        // A pause made elsewhere (`paddock notifications pause`, the same request) reaches a
        // tray that follows the supervisor's bus.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let follower = {
            let feed = feed.clone();
            let bus = supervisor.handle().bus().clone();
            tokio::spawn(async move {
                feed.follow(Some(bus), move |m| {
                    let _ = tx.send(m);
                })
                .await
            })
        };
        let cli = LocalClient::new(&tmp.path().join("run"), "cli");
        cli.pause_notifications(true).await.expect("paused");
        let ticked = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(m) = rx.recv().await {
                if m.paused {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ticked, Ok(true), "the tray did not show the CLI's pause");
        follower.abort();
        supervisor.stop().await;
    }

    #[tokio::test]
    async fn pair_a_device_keeps_the_hosts_offer_or_why_there_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (supervisor, feed) = host(&tmp);
        assert_eq!(feed.pairing_offer(), Err(NO_OFFER_YET.to_owned()));
        // No endpoint serves: the window says so, and what to look at.
        feed.new_pairing_offer().await;
        let why = feed.pairing_offer().expect_err("nothing to pair with");
        assert!(why.contains("endpoint is not serving"), "{why}");
        // With an endpoint: an operator offer for it, new on each ask.
        let fingerprint = "ab".repeat(32);
        supervisor
            .handle()
            .set_endpoint(Some(crate::supervisor::Endpoint {
                url: "https://127.0.0.1:7420".to_owned(),
                fingerprint: Some(fingerprint.clone()),
            }));
        feed.new_pairing_offer().await;
        let first = feed.pairing_offer().expect("an offer");
        assert_eq!(first.role, Role::Operator);
        assert_eq!(first.url, "https://127.0.0.1:7420");
        assert_eq!(first.fingerprint, fingerprint);
        feed.new_pairing_offer().await;
        let second = feed.pairing_offer().expect("an offer");
        assert_ne!(
            first.secret, second.secret,
            "each ask is a new one-time offer"
        );
        supervisor.stop().await;
    }
}
