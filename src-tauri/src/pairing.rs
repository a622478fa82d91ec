//! "Pair a device…": a small window showing a one-time pairing offer made by the supervisor
//! (`paddock_core::tray::TrayFeed::new_pairing_offer`, `paddock pair`'s request). Its page
//! (`paddock_client::pairing_page`) is served by the app itself under the `pairing` URI
//! scheme, from the offer held in memory; nothing is written to disk.
use paddock_server::host::AppHost;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const WINDOW: &str = "pair";
pub const SCHEME: &str = "pairing";

/// Opens (or focuses) the pairing window with a fresh offer.
pub fn open<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        app.state::<AppHost>().feed.new_pairing_offer().await;
        let app2 = app.clone();
        let _ = app.run_on_main_thread(move || {
            if let Err(e) = show(&app2) {
                tracing::warn!(error = %e, "cannot open the pairing window");
            }
        });
    });
}

fn show<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    if let Some(w) = app.get_webview_window(WINDOW) {
        w.reload()?;
        return w.set_focus();
    }
    // How each webview names a custom scheme's pages.
    let url = if cfg!(any(windows, target_os = "android")) {
        format!("http://{SCHEME}.localhost/")
    } else {
        format!("{SCHEME}://localhost/")
    };
    let url = tauri::Url::parse(&url).map_err(tauri::Error::InvalidUrl)?;
    WebviewWindowBuilder::new(app, WINDOW, WebviewUrl::CustomProtocol(url))
        .title("Pair a device")
        .inner_size(380.0, 600.0)
        .resizable(false)
        .build()?;
    Ok(())
}

/// The `pairing://` scheme's answer: the page of the offer held now.
pub fn serve<R: Runtime>(app: &AppHandle<R>) -> tauri::http::Response<Vec<u8>> {
    let offer = app.state::<AppHost>().feed.pairing_offer();
    let page = paddock_client::pairing_page::page(offer.as_ref().map_err(String::as_str));
    tauri::http::Response::builder()
        .header("Content-Type", "text/html; charset=utf-8")
        .body(page.into_bytes())
        .unwrap_or_default()
}
