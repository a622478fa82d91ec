//! The desktop app's state is `paddock_server::host::AppHost` (who runs the supervisor, its
//! socket, and the tray's feed of it: `paddock_core::tray::TrayFeed`). The functions here
//! only start its requests on the async runtime and show their answers in the tray and
//! windows.
use paddock_core::events::Bus;
use paddock_proto::agent::Decision;
use paddock_server::host::AppHost;
use tauri::{AppHandle, Manager, Runtime};

/// Pauses or resumes the host's notifications from the tray, then shows the host's answer
/// in the tray's check box.
pub fn toggle_pause<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        if let Some(model) = app.state::<AppHost>().feed.toggle_pause().await {
            crate::tray::show(&app, model);
        }
    });
}

/// Answers a permission request from the tray, then refreshes the tray.
pub fn answer<R: Runtime>(app: AppHandle<R>, request: String, decision: Decision) {
    tauri::async_runtime::spawn(async move {
        if let Some(model) = app.state::<AppHost>().feed.answer(&request, decision).await {
            crate::tray::show(&app, model);
        }
    });
}

/// Keeps the tray in step with the supervisor for as long as it runs: on the embedded
/// supervisor's events when there is a `bus`, else by polling.
pub fn spawn_tray_loop<R: Runtime>(app: AppHandle<R>, bus: Option<Bus>) {
    tauri::async_runtime::spawn(async move {
        app.state::<AppHost>()
            .feed
            .follow(bus, |model| crate::tray::show(&app, model))
            .await;
    });
}

/// About: the main window's About page, and who runs the supervisor in the log.
pub fn about<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    tracing::info!("{}", app.state::<AppHost>().describe());
    crate::window::show_route(app, paddock_client::routes::ABOUT)
}
