//! The host's desktop notifications: `org.freedesktop.Notifications` on the session bus
//! (Linux, and any desktop with a freedesktop notification server). Approve / Deny are the
//! notification's actions when the server has the `actions` capability; `ActionInvoked`
//! redeems the pressed action's token; `CloseNotification` takes a notification back once
//! its request was answered. A refused press (the request was answered elsewhere first) is
//! told in a notification of its own, which says who answered and when.
//!
//! macOS has no such server: there the app's own channel (tauri-plugin-notification) is the
//! desktop channel; `paddock up` on macOS runs without one and says so.

use futures_util::StreamExt;
use paddock_core::notify::{
    Answers, BoxFuture, Capabilities, Channel, ChannelError, NotificationKind, Outgoing, Receipt,
    Withdrawal,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use zbus::zvariant::Value;

const DEST: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const IFACE: &str = "org.freedesktop.Notifications";
/// Notifications whose actions are remembered (older ones can no longer be pressed here).
const KEEP: usize = 256;

/// The desktop channel.
pub struct Desktop {
    conn: zbus::Connection,
    /// D-Bus notification id → (action key → token).
    pressed: Mutex<HashMap<u32, Vec<(String, String)>>>,
    order: Mutex<std::collections::VecDeque<u32>>,
}

impl Desktop {
    /// Connects to `address`, or to the session bus (`DBUS_SESSION_BUS_ADDRESS`).
    pub async fn connect(address: Option<&str>) -> Result<Self, ChannelError> {
        let conn = match address {
            Some(a) => zbus::connection::Builder::address(a)
                .map_err(|e| ChannelError::NotConfigured(format!("the D-Bus address `{a}` is not valid: {e}")))?
                .build()
                .await,
            None => zbus::Connection::session().await,
        }
        .map_err(|e| ChannelError::NotConfigured(format!("no desktop session bus to show notifications on ({e}); set [notify.desktop] bus_address, or turn the desktop channel off")))?;
        Ok(Self {
            conn,
            pressed: Mutex::default(),
            order: Mutex::default(),
        })
    }

    async fn proxy(&self) -> Result<zbus::Proxy<'static>, ChannelError> {
        zbus::Proxy::new(&self.conn, DEST, PATH, IFACE)
            .await
            .map_err(|e| {
                ChannelError::NotConfigured(format!(
                    "no notification server on the session bus: {e}"
                ))
            })
    }

    /// The server's capabilities (`actions`, `body`, ...).
    pub async fn capabilities_of_server(&self) -> Result<Vec<String>, ChannelError> {
        self.proxy()
            .await?
            .call("GetCapabilities", &())
            .await
            .map_err(bus_error)
    }

    async fn notify(
        &self,
        summary: &str,
        body: &str,
        actions: &[String],
        critical: bool,
        timeout_ms: i32,
    ) -> Result<u32, ChannelError> {
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert("urgency", Value::U8(if critical { 2 } else { 1 }));
        hints.insert("desktop-entry", Value::from("paddock"));
        let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
        self.proxy()
            .await?
            .call(
                "Notify",
                &(
                    "Paddock", 0u32, "", summary, body, actions, hints, timeout_ms,
                ),
            )
            .await
            .map_err(bus_error)
    }

    fn remember(&self, id: u32, keys: Vec<(String, String)>) {
        let mut pressed = self.pressed.lock().unwrap_or_else(|p| p.into_inner());
        let mut order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        pressed.insert(id, keys);
        order.push_back(id);
        while order.len() > KEEP {
            if let Some(old) = order.pop_front() {
                pressed.remove(&old);
            }
        }
    }

    /// The token of button `key` on notification `id`. Each token is single-use, but the
    /// other buttons' stay: a second press (on a server that kept the notification, or racing
    /// its close) is redeemed and refused with who answered first, which the owner is shown.
    fn token(&self, id: u32, key: &str) -> Option<String> {
        let pressed = self.pressed.lock().unwrap_or_else(|p| p.into_inner());
        pressed
            .get(&id)?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.clone())
    }

    async fn on_action(&self, answers: &Answers, id: u32, key: &str) {
        let Some(token) = self.token(id, key) else {
            return;
        };
        match answers.redeem("desktop", &token, None).await {
            Ok(r) => {
                tracing::info!(request = %r.request.id, by = %r.by, "answered from a desktop notification")
            }
            Err(e) => {
                tracing::info!(error = %e, "a desktop notification's action was refused");
                let _ = self
                    .notify("Paddock: not taken", &e.to_string(), &[], false, -1)
                    .await;
            }
        }
    }
}

fn bus_error(e: zbus::Error) -> ChannelError {
    ChannelError::Transient(format!("the desktop notification server failed: {e}"))
}

impl Channel for Desktop {
    fn name(&self) -> &str {
        "desktop"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: true,
            withdraw: true,
            reply_text: false,
            remote: false,
        }
    }

    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            let n = &out.notification;
            let server_actions = self
                .capabilities_of_server()
                .await?
                .iter()
                .any(|c| c == "actions");
            let mut actions = Vec::new();
            let mut keys = Vec::new();
            let mut body = n.body.clone();
            if server_actions {
                for link in &out.actions {
                    actions.push(link.action.key.clone());
                    actions.push(link.action.label.clone());
                    keys.push((link.action.key.clone(), link.token.clone()));
                }
            } else if !out.actions.is_empty() {
                body.push_str(
                    "\nOpen Paddock to answer (this desktop's notifications have no buttons).",
                );
            }
            let permission = n.kind == NotificationKind::Permission;
            let id = self
                .notify(
                    &n.title,
                    &body,
                    &actions,
                    permission,
                    if permission { 0 } else { -1 },
                )
                .await?;
            if !keys.is_empty() {
                self.remember(id, keys);
            }
            Ok(Receipt {
                remote_ids: vec![id.to_string()],
                detail: Some(format!("desktop notification {id}")),
            })
        })
    }

    fn withdraw<'a>(
        &'a self,
        _out: &'a Outgoing,
        receipt: &'a Receipt,
        _why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            let proxy = self.proxy().await?;
            for id in receipt
                .remote_ids
                .iter()
                .filter_map(|i| i.parse::<u32>().ok())
            {
                proxy
                    .call::<_, _, ()>("CloseNotification", &(id,))
                    .await
                    .map_err(bus_error)?;
            }
            Ok(())
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, ChannelError>> {
        Box::pin(async move {
            let caps = self.capabilities_of_server().await?;
            Ok(if caps.iter().any(|c| c == "actions") {
                "notification server with action buttons".to_owned()
            } else {
                "notification server without action buttons (a tap cannot answer here)".to_owned()
            })
        })
    }

    fn listen(
        self: Arc<Self>,
        answers: Answers,
        mut shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let mut stream = match self.proxy().await {
                Ok(p) => match p.receive_signal("ActionInvoked").await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot hear desktop notification buttons; answer in Paddock instead");
                        return;
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot hear desktop notification buttons; answer in Paddock instead");
                    return;
                }
            };
            loop {
                let msg = tokio::select! {
                    _ = shutdown.changed() => break,
                    m = stream.next() => m,
                };
                let Some(msg) = msg else { break };
                match msg.body().deserialize::<(u32, String)>() {
                    Ok((id, key)) => self.on_action(&answers, id, &key).await,
                    Err(e) => {
                        tracing::debug!(error = %e, "an ActionInvoked signal Paddock cannot read")
                    }
                }
            }
        })
    }
}
