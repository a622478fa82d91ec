//! The tray (system tray on Linux, menubar on macOS): an icon that shows whether anything
//! waits (the waiting variant of the glyph, and the count as its title where the platform
//! has one), and the menu. What it shows and what each click does are decided in
//! `paddock_core::tray` (the model, the menu as data, the actions); this file only makes
//! native menus of it and carries out the actions.
use paddock_core::tray::{menu::items, TrayAction, TrayItem, TrayModel};
use paddock_server::host::AppHost;
use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu,
};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::ManagerExt as _;

pub const TRAY: &str = "paddock";

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
        .icon(icon(model.waits())?)
        .icon_as_template(true)
        .tooltip(model.tooltip())
        .menu(&native_menu(app, &model)?)
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
    tray.set_icon(Some(icon(model.waits())?))?;
    tray.set_icon_as_template(true)?;
    tray.set_title(model.title())?;
    tray.set_tooltip(Some(model.tooltip()))?;
    tray.set_menu(Some(native_menu(app, model)?))?;
    Ok(())
}

/// Shows a new model from any thread: menus are made on the main thread (GTK and AppKit
/// want it).
pub fn show<R: Runtime>(app: &AppHandle<R>, model: TrayModel) {
    let app2 = app.clone();
    let _ = app.run_on_main_thread(move || {
        if let Err(e) = update(&app2, &model) {
            tracing::warn!(error = %e, "cannot update the tray");
        }
    });
}

/// The native menu for a model, with the login item's state.
fn native_menu<R: Runtime>(app: &AppHandle<R>, model: &TrayModel) -> tauri::Result<Menu<R>> {
    let autostart = app.autolaunch().is_enabled().unwrap_or(false);
    menu_of(app, &items(model, autostart))
}

/// The native menu of `paddock_core::tray::menu::items`, item for item.
pub fn menu_of<R: Runtime>(app: &AppHandle<R>, items: &[TrayItem]) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for item in items {
        menu.append(&*native(app, item)?)?;
    }
    Ok(menu)
}

fn native<R: Runtime>(
    app: &AppHandle<R>,
    item: &TrayItem,
) -> tauri::Result<Box<dyn IsMenuItem<R>>> {
    Ok(match item {
        TrayItem::Item { id, label, enabled } => {
            Box::new(MenuItem::with_id(app, id, label, *enabled, None::<&str>)?)
        }
        TrayItem::Check { id, label, checked } => Box::new(CheckMenuItem::with_id(
            app,
            id,
            label,
            true,
            *checked,
            None::<&str>,
        )?),
        TrayItem::Submenu { id, label, items } => {
            let sub = Submenu::with_id(app, id, label, true)?;
            for i in items {
                sub.append(&*native(app, i)?)?;
            }
            Box::new(sub)
        }
        TrayItem::Separator => Box::new(PredefinedMenuItem::separator(app)?),
    })
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref();
    let Some(action) = TrayAction::parse(id) else {
        return;
    };
    if let Err(e) = act(app, action) {
        tracing::warn!(item = %id, error = %e, "a tray menu action failed");
    }
}

/// Carries out what a click asks for.
fn act<R: Runtime>(app: &AppHandle<R>, action: TrayAction) -> tauri::Result<()> {
    let host = app.state::<AppHost>();
    match action {
        answer @ (TrayAction::Approve(_) | TrayAction::Deny(_)) => {
            if let Some((request, decision)) = answer.answer() {
                crate::shell::answer(app.clone(), request.to_owned(), decision);
            }
            Ok(())
        }
        TrayAction::OpenSession(session) => {
            let endpoint = host.feed.endpoint().unwrap_or_default();
            crate::window::show_route(app, &paddock_client::routes::session(&endpoint, &session))
        }
        TrayAction::OpenPaddock => crate::window::show(app).map(drop),
        TrayAction::Pair => {
            crate::pairing::open(app);
            Ok(())
        }
        TrayAction::ToggleAutostart => {
            let auto = app.autolaunch();
            let on = auto.is_enabled().unwrap_or(false);
            if let Err(e) = if on { auto.disable() } else { auto.enable() } {
                tracing::warn!(error = %e, "cannot change Start at login");
            }
            update(app, &host.feed.model())
        }
        TrayAction::TogglePause => {
            crate::shell::toggle_pause(app.clone());
            Ok(())
        }
        TrayAction::About => crate::shell::about(app),
        TrayAction::Quit => {
            app.exit(0);
            Ok(())
        }
    }
}
