//! The main window: the same `ui/` as the browser, created on demand (the app starts with no
//! window, from the tray) and destroyed when closed, so a closed window costs no webview. Its
//! size and place are kept by tauri-plugin-window-state. On macOS it opens beside the tray
//! icon and hides when it loses focus (a menubar popover); elsewhere it is an ordinary window.
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// Shows (creating if needed) and focuses the main window.
pub fn show<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    let w = match app.get_webview_window(MAIN) {
        Some(w) => w,
        None => WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
            .title("Paddock")
            .inner_size(1100.0, 760.0)
            .min_inner_size(420.0, 480.0)
            .visible(true)
            .build()?,
    };
    #[cfg(target_os = "macos")]
    place_beside_tray(app, &w);
    w.show()?;
    w.unminimize()?;
    w.set_focus()?;
    Ok(w)
}

/// Shows the main window at a UI route (a hash such as `#/s/<host>/<id>` or `#/pair?link=…`).
pub fn show_route<R: Runtime>(app: &AppHandle<R>, hash: &str) -> tauri::Result<()> {
    show(app)?.eval(paddock_client::routes::go_to_script(hash))
}

/// Where the tray icon was last clicked, for placing the window under it (macOS).
#[cfg(target_os = "macos")]
pub static TRAY_RECT: std::sync::Mutex<Option<tauri::Rect>> = std::sync::Mutex::new(None);

#[cfg(target_os = "macos")]
fn place_beside_tray<R: Runtime>(_app: &AppHandle<R>, w: &WebviewWindow<R>) {
    let rect = *TRAY_RECT.lock().unwrap_or_else(|p| p.into_inner());
    let (Some(rect), Ok(size)) = (rect, w.outer_size()) else {
        return;
    };
    let scale = w.scale_factor().unwrap_or(1.0);
    let pos = rect.position.to_physical::<f64>(scale);
    let tray = rect.size.to_physical::<f64>(scale);
    let x = pos.x + tray.width / 2.0 - f64::from(size.width) / 2.0;
    let y = pos.y + tray.height;
    let _ = w.set_position(tauri::PhysicalPosition::new(x.max(0.0), y));
}
