//! The tray (system tray on Linux, menubar on macOS): an icon that shows whether anything
//! waits (the waiting variant of the glyph, and the count as its title where the platform
//! has one), and a menu with the sessions that need their owner first (a pending permission
//! has its own Approve / Deny submenu), then Open Paddock, Pair a device…, Start at login,
//! Pause notifications, About and Quit. The content is decided in `tray_model.rs`; this file
//! only makes menus and routes clicks.
use crate::shell::Shell;
use crate::tray_model::{TrayModel, ALLOW_PREFIX, DENY_PREFIX, OPEN_PREFIX};
use paddock_proto::agent::Decision;
use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu,
};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::ManagerExt as _;

pub const TRAY: &str = "paddock";
const OPEN: &str = "open-paddock";
const PAIR: &str = "pair";
const AUTOSTART: &str = "autostart";
const PAUSE: &str = "pause-notifications";
const ABOUT: &str = "about";
const QUIT: &str = "quit";

/// The glyph: on macOS a template image (the system colours it for light and dark menu bars);
/// on Linux the light glyph, drawn for the dark panels most desktops use.
fn icon(waiting: bool) -> tauri::Result<Image<'static>> {
    let bytes: &'static [u8] = match (cfg!(target_os = "macos"), waiting) {
        (true, false) => include_bytes!("../icons/tray/tray-light@2x.png"),
        (true, true) => include_bytes!("../icons/tray/tray-light-waiting@2x.png"),
        (false, false) => include_bytes!("../icons/tray/tray-dark@2x.png"),
        (false, true) => include_bytes!("../icons/tray/tray-dark-waiting@2x.png"),
    };
    Image::from_bytes(bytes)
}

/// Makes the tray icon with an empty model; `update` fills it.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let model = TrayModel::default();
    TrayIconBuilder::with_id(TRAY)
        .icon(icon(false)?)
        .icon_as_template(true)
        .tooltip(model.tooltip())
        .menu(&menu(app, &model)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu)
        .on_tray_icon_event(|_tray, _event| {
            #[cfg(target_os = "macos")]
            if let tauri::tray::TrayIconEvent::Click { rect, .. } = _event {
                *crate::window::TRAY_RECT
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(rect);
            }
        })
        .build(app)
}

/// Shows a new model: icon, title, tooltip and menu.
pub fn update<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<()> {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return Ok(());
    };
    tray.set_icon(Some(icon(model.waiting > 0)?))?;
    tray.set_icon_as_template(true)?;
    tray.set_title(model.title())?;
    tray.set_tooltip(Some(model.tooltip()))?;
    tray.set_menu(Some(menu(app, model)?))?;
    Ok(())
}

/// The menu for a model.
pub fn menu<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    if model.entries.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "nothing-waits",
            "No agent needs you",
            false,
            None::<&str>,
        )?)?;
    }
    for e in &model.entries {
        let open_id = format!("{OPEN_PREFIX}{}", e.session);
        match &e.permission {
            Some(p) => {
                let items: [&dyn IsMenuItem<R>; 3] = [
                    &MenuItem::with_id(
                        app,
                        format!("{ALLOW_PREFIX}{p}"),
                        "Approve",
                        true,
                        None::<&str>,
                    )?,
                    &MenuItem::with_id(
                        app,
                        format!("{DENY_PREFIX}{p}"),
                        "Deny",
                        true,
                        None::<&str>,
                    )?,
                    &MenuItem::with_id(app, open_id, "Open session", true, None::<&str>)?,
                ];
                menu.append(&Submenu::with_id_and_items(
                    app,
                    format!("perm:{p}"),
                    &e.label,
                    true,
                    &items,
                )?)?;
            }
            None => menu.append(&MenuItem::with_id(
                app,
                open_id,
                &e.label,
                true,
                None::<&str>,
            )?)?,
        }
    }
    let autostart = app.autolaunch().is_enabled().unwrap_or(false);
    let paused = model.paused;
    let fixed: [&dyn IsMenuItem<R>; 9] = [
        &PredefinedMenuItem::separator(app)?,
        &MenuItem::with_id(app, OPEN, "Open Paddock", true, None::<&str>)?,
        &MenuItem::with_id(app, PAIR, "Pair a device…", true, None::<&str>)?,
        &PredefinedMenuItem::separator(app)?,
        &CheckMenuItem::with_id(
            app,
            AUTOSTART,
            "Start at login",
            true,
            autostart,
            None::<&str>,
        )?,
        &CheckMenuItem::with_id(
            app,
            PAUSE,
            "Pause notifications",
            true,
            paused,
            None::<&str>,
        )?,
        &PredefinedMenuItem::separator(app)?,
        &MenuItem::with_id(app, ABOUT, "About Paddock", true, None::<&str>)?,
        &MenuItem::with_id(app, QUIT, "Quit Paddock", true, None::<&str>)?,
    ];
    menu.append_items(&fixed)?;
    Ok(menu)
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref().to_owned();
    if let Err(e) = handle(app, &id) {
        tracing::warn!(item = %id, error = %e, "a tray menu action failed");
    }
}

fn handle<R: Runtime>(app: &AppHandle<R>, id: &str) -> tauri::Result<()> {
    let shell = app.state::<Shell>();
    if let Some(session) = id.strip_prefix(OPEN_PREFIX) {
        return crate::window::show_route(app, &shell.session_route(session));
    }
    for (prefix, decision) in [
        (ALLOW_PREFIX, Decision::Allow),
        (DENY_PREFIX, Decision::Deny { message: None }),
    ] {
        if let Some(request) = id.strip_prefix(prefix) {
            shell.decide(app.clone(), request.to_owned(), decision);
            return Ok(());
        }
    }
    match id {
        OPEN => crate::window::show(app).map(drop),
        PAIR => crate::shell::open_pairing(app),
        AUTOSTART => {
            let auto = app.autolaunch();
            let on = auto.is_enabled().unwrap_or(false);
            let r = if on { auto.disable() } else { auto.enable() };
            if let Err(e) = r {
                tracing::warn!(error = %e, "cannot change Start at login");
            }
            shell.refresh_menu(app)
        }
        PAUSE => {
            shell.toggle_notifications(app.clone());
            Ok(())
        }
        ABOUT => crate::shell::about(app),
        QUIT => {
            app.exit(0);
            Ok(())
        }
        _ => Ok(()),
    }
}
