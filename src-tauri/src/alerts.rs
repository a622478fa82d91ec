//! Native notifications from the app: when a session starts needing its owner (a permission
//! request, a question, an error), the desktop shows it (tauri-plugin-notification; D-Bus
//! `org.freedesktop.Notifications` on Linux, the Notification Center on macOS), unless the
//! owner paused notifications from the tray. This is the app's side of a notification
//! channel: the rules, the Approve / Deny action tokens and presence belong to the notifier
//! (issue 12), which will call [`show`] through its channel trait in place of [`announce`].
use crate::tray_model::{Entry, TrayModel};
use tauri::{AppHandle, Runtime};

/// The entries of `new` that were not in `old` (a session that started waiting, or whose
/// reason changed, e.g. a second permission request).
pub fn arrivals<'a>(old: &TrayModel, new: &'a TrayModel) -> Vec<&'a Entry> {
    new.entries
        .iter()
        .filter(|e| !old.entries.contains(e))
        .collect()
}

/// Shows what newly needs the owner, unless paused.
pub fn announce<R: Runtime>(app: &AppHandle<R>, old: &TrayModel, new: &TrayModel, paused: bool) {
    if paused {
        return;
    }
    for e in arrivals(old, new) {
        show(app, "Paddock: an agent needs you", &e.label);
    }
}

/// One native notification.
#[cfg(feature = "notification")]
pub fn show<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "cannot show a desktop notification");
    }
}

/// Without the notification plugin (the macOS check build), notifications go to the log.
#[cfg(not(feature = "notification"))]
pub fn show<R: Runtime>(_app: &AppHandle<R>, title: &str, body: &str) {
    tracing::info!(%title, %body, "notification (built without the notification plugin)");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(session: &str, label: &str) -> Entry {
        Entry {
            session: session.into(),
            label: label.into(),
            permission: None,
        }
    }

    #[test]
    fn only_what_newly_needs_the_owner_is_announced() {
        let old = TrayModel {
            entries: vec![entry("a", "a: waits for your answer")],
            ..Default::default()
        };
        let new = TrayModel {
            entries: vec![
                entry("a", "a: waits for your answer"),
                entry("b", "b: asks to run Bash"),
            ],
            ..Default::default()
        };
        let got: Vec<&str> = arrivals(&old, &new)
            .iter()
            .map(|e| e.session.as_str())
            .collect();
        assert_eq!(got, ["b"]);
        assert!(arrivals(&new, &new).is_empty());
    }
}
