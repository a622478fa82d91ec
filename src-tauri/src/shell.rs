//! The desktop shell's state and its one loop: who runs the supervisor (`host.rs`), the tray
//! model refreshed from the supervisor's socket (the menu is rebuilt only when it changes),
//! tray Approve / Deny and Pause notifications, the pairing window and About. Embedded, the
//! tray asks when the supervisor's bus says a session, a permission request or the
//! notification settings changed, so an idle app asks nothing; joined to another process's
//! supervisor, whose events it cannot hear, it asks every second. Either way the Pause check
//! box shows the host's pause, whoever made it (the CLI, the UI's settings, the tray). When to
//! ask and what is `paddock_core::needs_watch`; this file shows the answer.
use crate::host::HostMode;
use crate::links::encode;
use crate::tray_model::TrayModel;
use paddock_core::events::Bus;
use paddock_core::local_client::LocalClient;
use paddock_core::needs_watch::{NeedsSnapshot, NeedsWatch};
use paddock_proto::access::{PairingOffer, Role};
use paddock_proto::agent::Decision;
use std::sync::Mutex;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The desktop app's state (managed by Tauri).
pub struct Shell {
    /// The supervisor's local socket (embedded or `paddock up`): one code path either way.
    pub local: LocalClient,
    mode: Mutex<Option<HostMode>>,
    /// The endpoint's URL, which names this host in the UI's routes.
    endpoint: Mutex<Option<String>>,
    model: Mutex<TrayModel>,
    offer: Mutex<Result<PairingOffer, String>>,
}

impl Shell {
    pub fn new(local: LocalClient, mode: HostMode) -> Self {
        let endpoint = match &mode {
            HostMode::Embedded(h) => h.server.as_ref().map(|s| s.url.clone()),
            HostMode::Joined { .. } => None,
        };
        Self {
            local,
            mode: Mutex::new(Some(mode)),
            endpoint: Mutex::new(endpoint),
            model: Mutex::default(),
            offer: Mutex::new(Err("No pairing offer yet.".to_owned())),
        }
    }

    pub fn describe(&self) -> String {
        match &*self.mode.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(m) => m.describe(),
            None => "The app is quitting.".to_owned(),
        }
    }

    /// Whether this app runs the supervisor (rather than joining another's).
    pub fn is_embedded(&self) -> bool {
        matches!(
            &*self.mode.lock().unwrap_or_else(|p| p.into_inner()),
            Some(HostMode::Embedded(_))
        )
    }

    /// Tells this app's own supervisor whether its window has the focus (the owner is at
    /// the desk); a joined supervisor learns presence from its own clients.
    pub fn window_focused(&self, focused: bool) {
        if let Some(HostMode::Embedded(h)) = &*self.mode.lock().unwrap_or_else(|p| p.into_inner()) {
            h.supervisor
                .handle()
                .notifier()
                .presence()
                .app_focused(focused);
        }
    }

    /// Takes the embedded host (if any) to stop it at quit.
    pub fn take_mode(&self) -> Option<HostMode> {
        self.mode.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// What the tray shows now (the host's state as last asked).
    pub fn tray_model(&self) -> TrayModel {
        self.model.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the host holds every notification, as the tray last saw it.
    pub fn notifications_paused(&self) -> bool {
        self.tray_model().paused
    }

    /// Pauses or resumes the host's notifier (every channel: the desktop, Web Push, ...),
    /// then shows the host's answer in the tray's check box. The same request as `paddock
    /// notifications pause|resume`, so there is one pause.
    pub fn toggle_notifications<R: Runtime>(&self, app: AppHandle<R>) {
        let paused = !self.notifications_paused();
        let local = self.local.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = local.pause_notifications(paused).await {
                tracing::warn!(error = %e, "the host did not take the tray's pause of notifications");
            }
            // The check box shows what the host says, not what was asked: GTK has already
            // flipped it on the click, so the menu is rebuilt even if the answer is unchanged.
            refresh(&app, true).await;
        });
    }

    /// The UI route of one of this host's sessions.
    pub fn session_route(&self, session: &str) -> String {
        let host = self
            .endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default();
        format!("#/s/{}/{}", encode(&host), encode(session))
    }

    pub fn refresh_menu<R: Runtime>(&self, app: &AppHandle<R>) -> tauri::Result<()> {
        let model = self.model.lock().unwrap_or_else(|p| p.into_inner()).clone();
        crate::tray::update(app, &model)
    }

    /// Answers a permission request from the tray, then refreshes the tray.
    pub fn decide<R: Runtime>(&self, app: AppHandle<R>, request: String, decision: Decision) {
        let local = self.local.clone();
        tauri::async_runtime::spawn(async move {
            match local
                .decide(&request, decision, "the Paddock app (tray)")
                .await
            {
                Ok(()) => tracing::info!(%request, "permission answered from the tray"),
                Err(e) => tracing::warn!(%request, error = %e, "the tray's answer was not taken"),
            }
            refresh(&app, false).await;
        });
    }
}

/// Asks the supervisor once and shows the answer if it changed (or always, `force`).
async fn refresh<R: Runtime>(app: &AppHandle<R>, force: bool) {
    let shell = app.state::<Shell>();
    let now = match NeedsSnapshot::ask(&shell.local).await {
        Ok(now) => now,
        Err(e) => {
            tracing::debug!(error = %e, "the tray could not ask the supervisor");
            return;
        }
    };
    // Joined: the endpoint that names this host in the UI's routes is the other process's.
    {
        let mut endpoint = shell.endpoint.lock().unwrap_or_else(|p| p.into_inner());
        if endpoint.is_none() {
            endpoint.clone_from(&now.status.url);
        }
    }
    let model = TrayModel {
        paused: now.status.notifications_paused,
        ..TrayModel::build(&now.sessions, &now.pending)
    };
    {
        let mut current = shell.model.lock().unwrap_or_else(|p| p.into_inner());
        if *current == model && !force {
            return;
        }
        *current = model.clone();
    }
    let app2 = app.clone();
    // Menus are made on the main thread (GTK and AppKit want it).
    let _ = app.run_on_main_thread(move || {
        if let Err(e) = crate::tray::update(&app2, &model) {
            tracing::warn!(error = %e, "cannot update the tray");
        }
    });
}

/// Keeps the tray in step with the supervisor for as long as the app runs: on the embedded
/// supervisor's events when there is a `bus`, else by polling (`NeedsWatch`).
pub fn spawn_tray_loop<R: Runtime>(app: AppHandle<R>, bus: Option<Bus>) {
    tauri::async_runtime::spawn(async move {
        let mut watch = NeedsWatch::new(bus.as_ref());
        refresh(&app, false).await;
        while watch.changed().await.is_some() {
            refresh(&app, false).await;
        }
    });
}

/// Opens (or focuses) the pairing window with a fresh offer.
pub fn open_pairing<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let offer = shell
            .local
            .pairing(Role::Operator)
            .await
            .map_err(|e| e.to_string());
        *shell.offer.lock().unwrap_or_else(|p| p.into_inner()) = offer;
        let app2 = app.clone();
        let _ = app.run_on_main_thread(move || {
            if let Err(e) = show_pairing(&app2) {
                tracing::warn!(error = %e, "cannot open the pairing window");
            }
        });
    });
    Ok(())
}

fn show_pairing<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    if let Some(w) = app.get_webview_window(crate::pairing::WINDOW) {
        w.reload()?;
        return w.set_focus();
    }
    let url = if cfg!(any(windows, target_os = "android")) {
        format!("http://{}.localhost/", crate::pairing::SCHEME)
    } else {
        format!("{}://localhost/", crate::pairing::SCHEME)
    };
    let url = tauri::Url::parse(&url).map_err(tauri::Error::InvalidUrl)?;
    WebviewWindowBuilder::new(app, crate::pairing::WINDOW, WebviewUrl::CustomProtocol(url))
        .title("Pair a device")
        .inner_size(380.0, 600.0)
        .resizable(false)
        .build()?;
    Ok(())
}

/// The pairing page for the `pairing://` scheme.
pub fn pairing_page<R: Runtime>(app: &AppHandle<R>) -> String {
    let shell = app.state::<Shell>();
    let offer = shell.offer.lock().unwrap_or_else(|p| p.into_inner());
    crate::pairing::page(offer.as_ref().map_err(String::as_str))
}

/// About: what the app is and who runs the supervisor, as a native dialog-less window-free
/// notice in the main window's About page plus the log.
pub fn about<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    tracing::info!("{}", app.state::<Shell>().describe());
    crate::window::show_route(app, "#/about")
}
