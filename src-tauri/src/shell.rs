//! The desktop shell's state: who runs the supervisor (`paddock_server::host::HostMode`), the tray's feed of it
//! (`paddock_core::tray::TrayFeed`: what the tray shows, kept in step, and the tray's
//! requests, and the pairing window's offer). The functions here only start those on the
//! async runtime and show their answers in the tray and windows.
use paddock_core::events::Bus;
use paddock_core::local_client::LocalClient;
use paddock_core::tray::{TrayFeed, TrayModel};
use paddock_proto::agent::Decision;
use paddock_proto::shell::HostModeKind;
use paddock_server::host::HostMode;
use std::sync::{Mutex, MutexGuard};
use tauri::{AppHandle, Manager, Runtime};

/// The desktop app's state (managed by Tauri).
pub struct Shell {
    /// The supervisor's local socket (embedded or `paddock up`): one code path either way.
    pub local: LocalClient,
    mode: Mutex<Option<HostMode>>,
    /// What the tray shows, kept in step with the supervisor.
    pub feed: TrayFeed,
}

impl Shell {
    pub fn new(local: LocalClient, mode: HostMode) -> Self {
        Self {
            feed: TrayFeed::new(local.clone(), mode.endpoint()),
            local,
            mode: Mutex::new(Some(mode)),
        }
    }

    fn mode(&self) -> MutexGuard<'_, Option<HostMode>> {
        self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn describe(&self) -> String {
        match &*self.mode() {
            Some(m) => m.describe(),
            None => "The app is quitting.".to_owned(),
        }
    }

    /// Whether this app runs the supervisor, or another process does (also once quitting).
    pub fn kind(&self) -> HostModeKind {
        self.mode()
            .as_ref()
            .map_or(HostModeKind::Joined, HostMode::kind)
    }

    /// Tells this app's own supervisor whether its window has the focus (the owner is at
    /// the desk); a joined supervisor learns presence from its own clients.
    pub fn window_focused(&self, focused: bool) {
        if let Some(HostMode::Embedded(h)) = &*self.mode() {
            h.supervisor
                .handle()
                .notifier()
                .presence()
                .app_focused(focused);
        }
    }

    /// Takes the embedded host (if any) to stop it at quit.
    pub fn take_mode(&self) -> Option<HostMode> {
        self.mode().take()
    }

    /// What the tray shows now (the host's state as last asked).
    pub fn tray_model(&self) -> TrayModel {
        self.feed.model()
    }

    /// The UI route of one of this host's sessions.
    pub fn session_route(&self, session: &str) -> String {
        paddock_client::routes::session(&self.feed.endpoint().unwrap_or_default(), session)
    }

    /// Pauses or resumes the host's notifications from the tray, then shows the host's
    /// answer in the tray's check box.
    pub fn toggle_pause<R: Runtime>(&self, app: AppHandle<R>) {
        tauri::async_runtime::spawn(async move {
            if let Some(model) = app.state::<Shell>().feed.toggle_pause().await {
                crate::tray::show(&app, model);
            }
        });
    }

    /// Answers a permission request from the tray, then refreshes the tray.
    pub fn answer<R: Runtime>(&self, app: AppHandle<R>, request: String, decision: Decision) {
        tauri::async_runtime::spawn(async move {
            if let Some(model) = app.state::<Shell>().feed.answer(&request, decision).await {
                crate::tray::show(&app, model);
            }
        });
    }
}

/// Keeps the tray in step with the supervisor for as long as it runs: on the embedded
/// supervisor's events when there is a `bus`, else by polling.
pub fn spawn_tray_loop<R: Runtime>(app: AppHandle<R>, bus: Option<Bus>) {
    tauri::async_runtime::spawn(async move {
        app.state::<Shell>()
            .feed
            .follow(bus, |model| crate::tray::show(&app, model))
            .await;
    });
}

/// About: the main window's About page, and who runs the supervisor in the log.
pub fn about<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    tracing::info!("{}", app.state::<Shell>().describe());
    crate::window::show_route(app, paddock_client::routes::ABOUT)
}
