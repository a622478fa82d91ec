//! The Paddock app (Tauri 2). On the desktop it is the host: the supervisor and the endpoint
//! run inside it (or it joins the supervisor that already runs), and it lives in the tray
//! (`tray.rs`), with the same `ui/` as the browser in its window (`window.rs`) and a pairing
//! window (`pairing.rs`). On iOS and Android it is a client with one window. This crate holds
//! windows, tray, menus, deep links and thin commands only: every operation is a function of
//! the core crates (CONVENTIONS.md).
#![forbid(unsafe_code)]

#[cfg(desktop)]
pub mod commands;
#[cfg(desktop)]
pub mod pairing;
#[cfg(desktop)]
pub mod shell;
pub mod transport;
#[cfg(desktop)]
pub mod tray;
#[cfg(desktop)]
pub mod window;

use tauri::{Manager, RunEvent};

/// Runs the app until Quit.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // The commit this app was built from, for its supervisor's status (see build.rs). Only
    // the desktop app runs a supervisor (paddock-core is a desktop dependency).
    #[cfg(desktop)]
    {
        paddock_core::upgrade::record_commit(env!("BUILD_GIT_COMMIT"));
        // Stderr and `app.log` in the data directory's `logs/`, as the CLI's supervisor logs
        // to `paddock.log` there.
        paddock_core::logging::init_with_default_config("app");
    }
    // A phone has no data directory to read logs from nor PADDOCK_LOG: the platform's
    // console only.
    #[cfg(mobile)]
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .try_init();
    let builder = tauri::Builder::default();
    #[cfg(desktop)]
    let builder = builder
        // First: a second launch hands its arguments (and deep links) to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Err(e) = window::show(app) {
                tracing::warn!(error = %e, "cannot show the window for a second launch");
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .register_uri_scheme_protocol(pairing::SCHEME, |ctx, _req| {
            pairing::serve(ctx.app_handle())
        });
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_barcode_scanner::init());
    #[cfg(feature = "notification")]
    let builder = builder.plugin(tauri_plugin_notification::init());
    let builder = builder
        .manage(paddock_client::relay::Relay::new())
        .manage(paddock_client::relay::Sockets::new());
    #[cfg(desktop)]
    let builder = builder.invoke_handler(tauri::generate_handler![
        transport::capabilities,
        transport::request,
        transport::stream_open,
        transport::stream_send,
        transport::stream_close,
        commands::this_host,
        commands::pair_this_window
    ]);
    #[cfg(mobile)]
    let builder = builder.invoke_handler(tauri::generate_handler![
        transport::capabilities,
        transport::request,
        transport::stream_open,
        transport::stream_send,
        transport::stream_close
    ]);
    let app = builder
        .plugin(tauri_plugin_deep_link::init())
        .setup(setup)
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("Paddock cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|_app, event| match event {
        // Closing the last window leaves the app in the tray; only Quit (an explicit exit
        // code) ends it.
        RunEvent::ExitRequested { api, code, .. } if code.is_none() => api.prevent_exit(),
        // The app's window focused or not: where the owner is, for the notifier's presence
        // (notify the desk first, hold the phone's push). Only this app's own supervisor
        // hears it; a joined one learns presence from its own clients.
        #[cfg(desktop)]
        RunEvent::WindowEvent {
            event: tauri::WindowEvent::Focused(focused),
            ..
        } => {
            _app.state::<paddock_server::host::AppHost>()
                .window_focused(focused);
        }
        #[cfg(desktop)]
        RunEvent::Exit => {
            tauri::async_runtime::block_on(_app.state::<paddock_server::host::AppHost>().quit());
            tracing::info!("Paddock app quit; every agent keeps running");
        }
        _ => {}
    });
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    use tauri_plugin_deep_link::DeepLinkExt;
    let handle = app.handle().clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            open_link(&handle, url.as_str());
        }
    });
    #[cfg(desktop)]
    {
        #[cfg(target_os = "macos")]
        app.set_activation_policy(tauri::ActivationPolicy::Accessory);
        // Register the paddock:// scheme for this user where it is done at run time (Linux,
        // Windows); on macOS the bundle's Info.plist declares it.
        #[cfg(any(target_os = "linux", windows))]
        if let Err(e) = app.deep_link().register_all() {
            tracing::warn!(error = %e, "cannot register paddock:// links; pairing links will not open the app");
        }
        let (host, bus) =
            tauri::async_runtime::block_on(paddock_server::host::AppHost::start_or_join(None))?;
        app.manage(host);
        tray::create(app.handle())?;
        shell::spawn_tray_loop(app.handle().clone(), bus);
        // `--open`: show the window at once (the app otherwise starts in the tray only).
        if std::env::args().any(|a| a == "--open") {
            window::show(app.handle())?;
        }
    }
    #[cfg(mobile)]
    tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::App("index.html".into()))
        .build()?;
    Ok(())
}

/// A `paddock://` link: `pair?…` opens the pairing page with it; anything else opens the app.
fn open_link<R: tauri::Runtime>(app: &tauri::AppHandle<R>, url: &str) {
    tracing::info!(%url, "opened by a link");
    let route = paddock_client::routes::for_link(url);
    #[cfg(desktop)]
    if let Err(e) = window::show_route(app, &route) {
        tracing::warn!(error = %e, "cannot show the link in the window");
    }
    #[cfg(mobile)]
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.eval(paddock_client::routes::go_to_script(&route));
    }
}
