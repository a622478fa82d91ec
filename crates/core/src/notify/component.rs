//! The notifier on the bus: permission requests and session changes in, notifications out;
//! an answered or withdrawn request takes its notifications back. Delivery runs in tasks of
//! its own, so a slow channel never holds the loop.

use super::model::{Notification, NotificationKind, NotificationState};
use super::rules::{self, Draft, Tracker};
use crate::events::{Event, Received, Subscriber};
use crate::supervisor::Handle;
use paddock_proto::agent::PermissionOutcome;
use paddock_proto::supervisor::SessionView;
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};
use tokio::sync::watch;

/// Runs until `shutdown`.
pub async fn run(handle: Handle, mut events: Subscriber, mut shutdown: watch::Receiver<bool>) {
    handle.notifier().set_shutdown(shutdown.clone());
    let mut tracker = Tracker::default();
    loop {
        let received = tokio::select! {
            _ = shutdown.changed() => break,
            r = events.recv() => r,
        };
        match received {
            Received::Event(event) => on_event(&handle, &mut tracker, event),
            Received::Lagged(n) => {
                tracing::warn!(missed = n, "the notifier fell behind the event bus; resyncing from the registry and the permission requests");
                resync(&handle, &mut tracker);
            }
            Received::Closed => break,
        }
    }
}

fn on_event(handle: &Handle, tracker: &mut Tracker, event: Event) {
    let notifier = handle.notifier();
    match event {
        Event::PermissionUpdate { request } => match &request.outcome {
            None => {
                if notifier.config().rules.permission && !notifier.has_request(&request.id) {
                    let view = handle.registry().get(&request.session);
                    dispatch(
                        handle,
                        rules::permission(view.as_ref(), &request),
                        view.as_ref(),
                    );
                }
            }
            Some(outcome) => close(handle, &request.id, outcome),
        },
        Event::SessionUpdate { session } => {
            let drafts = tracker.observe(&notifier.config().rules, &session, Instant::now());
            for draft in drafts {
                if notifier.cooldown_allows(&draft.rule, session.id.as_str()) {
                    dispatch(handle, draft, Some(&session));
                }
            }
        }
        Event::SessionRemoved { id } => tracker.forget(&id),
        _ => {}
    }
}

/// After missing events: requests opened meanwhile get their notification, and those
/// decided meanwhile are taken back. Session rules start afresh (no old news).
fn resync(handle: &Handle, tracker: &mut Tracker) {
    for request in handle.permissions().list(true) {
        match &request.outcome {
            None => on_event(
                handle,
                tracker,
                Event::PermissionUpdate {
                    request: Box::new(request),
                },
            ),
            Some(outcome) => close(handle, &request.id, outcome),
        }
    }
    for view in handle.registry().list() {
        let _ = tracker.observe(&handle.notifier().config().rules, &view, Instant::now());
    }
}

fn close(handle: &Handle, request: &str, outcome: &PermissionOutcome) {
    let (state, text) = match outcome {
        PermissionOutcome::Decided { decision, by, at } => (
            NotificationState::Answered {
                by: by.clone(),
                verb: decision.verb().to_owned(),
                at: at.clone(),
            },
            format!("{} by {by}", capitalise(decision.verb())),
        ),
        PermissionOutcome::Withdrawn { reason, at } => (
            NotificationState::Withdrawn {
                reason: reason.clone(),
                at: at.clone(),
            },
            format!("No longer waiting: {reason}"),
        ),
    };
    let notifier = handle.notifier().clone();
    for (name, out, receipt, why) in notifier.close_request(request, state, &text) {
        let Some(channel) = notifier.channel(&name) else {
            continue;
        };
        let notifier = notifier.clone();
        tokio::spawn(async move {
            let name = channel.name().to_owned();
            let timeout = notifier.config().attempt_timeout;
            match tokio::time::timeout(timeout, channel.withdraw(&out, &receipt, &why)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(channel = %name, notification = %out.notification.id, error = %e, "could not take back an answered notification")
                }
                Err(_) => {
                    tracing::warn!(channel = %name, notification = %out.notification.id, "taking back an answered notification timed out")
                }
            }
        });
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Makes a notification and sends it to every channel (push channels after the presence
/// delay). Returns it at once; deliveries run on.
pub fn dispatch(handle: &Handle, draft: Draft, view: Option<&SessionView>) -> Arc<Notification> {
    let notifier = handle.notifier().clone();
    let config = notifier.config().clone();
    let request_expiry = draft
        .request
        .as_ref()
        .and_then(|r| humantime::parse_rfc3339(&r.expires_at).ok());
    let kind = draft.kind;
    let notification = notifier.create(draft, view);
    let channels = notifier.channels();
    let hold = if !config.enabled {
        Some("notifications are off ([notify] enabled = false)")
    } else if notifier.paused() {
        Some("notifications are paused")
    } else if quiet_now(&config, kind) {
        Some("quiet hours")
    } else {
        None
    };
    if let Some(why) = hold {
        for c in &channels {
            notifier.mark_skipped(&notification.id, c.name(), why);
        }
        return notification;
    }
    let base_url = config
        .public_url
        .clone()
        .or_else(|| handle.endpoint().map(|e| e.url));
    let mut expires = SystemTime::now() + config.action_ttl;
    if let Some(r) = request_expiry {
        expires = expires.min(r);
    }
    let delay = notifier.presence().push_delay();
    for channel in channels {
        let out = notifier.outgoing(&notification, channel.as_ref(), base_url.clone(), expires);
        let notifier = notifier.clone();
        let remote = channel.capabilities().remote;
        tokio::spawn(async move {
            let id = out.notification.id.clone();
            if remote && !delay.is_zero() {
                tokio::time::sleep(delay).await;
                if !notifier.is_open(&id) {
                    notifier.mark_skipped(
                        &id,
                        channel.name(),
                        "answered before it was escalated to push",
                    );
                    return;
                }
            }
            let _ = notifier.deliver(channel, out).await;
        });
    }
    notification
}

/// Whether quiet hours hold this kind of notification now.
fn quiet_now(config: &super::config::NotifyConfig, kind: NotificationKind) -> bool {
    let Some(q) = &config.quiet_hours else {
        return false;
    };
    if kind == NotificationKind::Permission && !q.permissions_too {
        return false;
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
        + local_offset();
    let minute = (now.rem_euclid(86400) / 60) as u32;
    match q.contains(minute) {
        Some(inside) => inside,
        None => {
            tracing::warn!(start = %q.start, end = %q.end, "quiet hours are not HH:MM to HH:MM; ignoring them");
            false
        }
    }
}

/// The local time's offset from UTC, asked of `date +%z` once (no time zone database in
/// the process; a host whose zone changes needs a restart of the supervisor).
fn local_offset() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let out = std::process::Command::new("date").arg("+%z").output();
        let text = out
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        parse_offset(&text).unwrap_or(0)
    })
}

/// `+0130` → 5400 seconds.
fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if rest.len() != 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = rest[..2].parse().ok()?;
    let m: i64 = rest[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_offsets_from_date_are_read_and_nonsense_is_not() {
        assert_eq!(parse_offset("+0130"), Some(5400));
        assert_eq!(parse_offset("-0800"), Some(-28800));
        assert_eq!(parse_offset("UTC"), None);
        assert_eq!(parse_offset(""), None);
    }
}
