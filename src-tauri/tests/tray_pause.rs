//! The tray's "Pause notifications" check box follows the host's one pause, whoever changes
//! it: the CLI's request (`paddock notifications pause|resume` sends `NotifyPause` over the
//! supervisor's socket), the UI's settings (the endpoint's PUT puts the same settings in
//! force), and the tray's own item. A real supervisor runs in-process as the app runs it
//! (host mode) in private directories; the tray's loop runs on Tauri's mock runtime and hears
//! the supervisor's events.
mod common;

use common::private_dirs;
use paddock_app::shell::spawn_tray_loop;
use paddock_core::local_client::LocalClient;
use paddock_server::host::{AppHost, HostMode};
use std::time::{Duration, Instant};
use tauri::test::mock_builder;
use tauri::Manager;

/// Waits (at most 10 s) until `f` holds; fails naming `what`.
fn wait_until(what: &str, f: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_pause_check_box_follows_a_pause_made_from_the_cli_the_ui_or_the_tray() {
    let _dirs = private_dirs();
    let (mode, dir) =
        tauri::async_runtime::block_on(HostMode::start_or_join(None)).expect("host mode starts");
    let HostMode::Embedded(host) = &mode else {
        panic!("the app should run the supervisor itself");
    };
    let handle = host.supervisor.handle().clone();
    let bus = mode.bus();
    let local = LocalClient::new(dir.path(), "app");
    let app = mock_builder()
        .manage(AppHost::new(local.clone(), mode))
        .build(tauri::generate_context!())
        .expect("the mock app builds");
    spawn_tray_loop(app.handle().clone(), bus);
    let shell = app.state::<AppHost>();
    let paused = || shell.feed.model().paused;
    // The tray's first look at the host: a session count of 0 and nothing held.
    wait_until("the tray's first look at the host", || {
        shell.feed.model().tooltip() == "Paddock: no agent sessions"
    });
    assert!(!paused());

    // `paddock notifications pause`: the same request over the supervisor's socket.
    tauri::async_runtime::block_on(local.pause_notifications(true)).expect("paused");
    wait_until("the check box ticked after a pause from the CLI", paused);

    // Settings → Notifications in the UI: the endpoint puts the changed settings in force.
    let mut settings = handle.notify_settings().settings;
    settings.paused = false;
    handle.set_notify_settings(&settings).expect("resumed");
    wait_until("the check box cleared after a resume from the UI", || {
        !paused()
    });

    // The tray's own item: the host holds notifications, and the box says so.
    paddock_app::shell::toggle_pause(app.handle().clone());
    wait_until("the check box ticked after the tray's own pause", paused);
    assert!(handle.notifier().config().paused, "the host holds them");
    assert!(
        tauri::async_runtime::block_on(local.status())
            .expect("status")
            .notifications_paused,
        "`paddock status` says so too"
    );

    tauri::async_runtime::block_on(shell.quit());
}
