//! The tray's native menu is core's menu item for item (`paddock_core::tray::menu::items`):
//! the same ids, labels, greyed lines, check marks and submenus, built on Tauri's mock
//! runtime from the tray a real supervisor (run in-process as the app runs it) feeds, and
//! from a tray with a permission to answer.
mod common;

use common::private_dirs;
use paddock_core::local_client::LocalClient;
use paddock_core::tray::menu::items;
use paddock_core::tray::{Entry, TrayFeed, TrayItem, TrayModel};
use paddock_server::host::HostMode;
use tauri::menu::MenuItemKind;
use tauri::test::{mock_builder, MockRuntime};

/// What a native item says, as core's `TrayItem` would (so the two can be compared).
fn read(kind: &MenuItemKind<MockRuntime>) -> TrayItem {
    if let Some(i) = kind.as_menuitem() {
        return TrayItem::Item {
            id: i.id().0.clone(),
            label: i.text().expect("a label"),
            enabled: i.is_enabled().expect("enabled or not"),
        };
    }
    if let Some(c) = kind.as_check_menuitem() {
        assert!(
            c.is_enabled().expect("enabled or not"),
            "a check box is never greyed"
        );
        return TrayItem::Check {
            id: c.id().0.clone(),
            label: c.text().expect("a label"),
            checked: c.is_checked().expect("ticked or not"),
        };
    }
    if let Some(s) = kind.as_submenu() {
        return TrayItem::Submenu {
            id: s.id().0.clone(),
            label: s.text().expect("a label"),
            items: s.items().expect("its items").iter().map(read).collect(),
        };
    }
    assert!(
        kind.as_predefined_menuitem().is_some(),
        "only separators are predefined"
    );
    TrayItem::Separator
}

#[test]
fn the_native_menu_is_cores_menu_item_for_item() {
    let _dirs = private_dirs();
    let (mode, dir) =
        tauri::async_runtime::block_on(HostMode::start_or_join(None)).expect("host mode starts");
    let local = LocalClient::new(dir.path(), "app");
    let feed = TrayFeed::new(local.clone(), mode.endpoint());
    let app = mock_builder()
        .build(tauri::generate_context!())
        .expect("the mock app builds");

    // The host as the tray sees it, with its notifications held (the check box ticked).
    tauri::async_runtime::block_on(local.pause_notifications(true)).expect("paused");
    let model = tauri::async_runtime::block_on(feed.refresh(true))
        .expect("the supervisor answers")
        .expect("a forced look is handed on");
    assert!(model.paused);
    // And the menu of a tray with a permission to answer (a submenu) and a question.
    let waiting = TrayModel {
        entries: vec![
            Entry {
                session: "ab12cd34".into(),
                label: "fix-tests: asks to run Bash".into(),
                permission: Some("p1".into()),
            },
            Entry {
                session: "ef56gh78".into(),
                label: "docs: waits for your answer".into(),
                permission: None,
            },
        ],
        waiting: 2,
        sessions: 3,
        paused: false,
    };
    for (model, autostart) in [(&model, false), (&model, true), (&waiting, false)] {
        let want = items(model, autostart);
        let menu = paddock_app::tray::menu_of(app.handle(), &want).expect("the native menu");
        let got: Vec<TrayItem> = menu.items().expect("its items").iter().map(read).collect();
        assert_eq!(got, want);
    }

    if let HostMode::Embedded(h) = mode {
        tauri::async_runtime::block_on(h.stop());
    }
}
