//! Component health (database, monitor, holders, tmux, agents): each component reports its
//! state; a change is published as a `system_alert`; overall health is the worst of them.
//! The endpoint will serve this as `/health`.

use crate::events::{Bus, Event};
use paddock_proto::supervisor::{ComponentHealth, HealthStatus};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The health board. Cheap to clone.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Mutex<BTreeMap<String, ComponentHealth>>>,
    bus: Bus,
}

impl Health {
    pub fn new(bus: Bus) -> Self {
        Self {
            inner: Arc::default(),
            bus,
        }
    }

    /// Records a component's state; publishes a `system_alert` when its status changed.
    pub fn set(&self, name: &str, status: HealthStatus, message: impl Into<String>) {
        self.put(ComponentHealth {
            name: name.to_owned(),
            status,
            message: message.into(),
            pending_writes: None,
        });
    }

    /// [`Health::set`] with every field of the component (the database's pending writes).
    pub fn put(&self, entry: ComponentHealth) {
        let (name, status) = (entry.name.clone(), entry.status);
        let name = name.as_str();
        let changed = {
            let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let changed = map.get(name).map(|c| c.status) != Some(status);
            map.insert(name.to_owned(), entry.clone());
            changed
        };
        if changed {
            match status {
                HealthStatus::Healthy => {
                    tracing::info!(component = name, message = %entry.message, "healthy")
                }
                _ => {
                    tracing::warn!(component = name, status = ?status, message = %entry.message, "component health changed")
                }
            }
            self.bus.publish(Event::SystemAlert { component: entry });
        }
    }

    pub fn components(&self) -> Vec<ComponentHealth> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The worst status of any component.
    pub fn overall(&self) -> HealthStatus {
        self.components()
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(HealthStatus::Healthy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Received;

    #[tokio::test]
    async fn overall_is_the_worst_and_changes_are_alerts() {
        let bus = Bus::new();
        let mut sub = bus.subscribe();
        let h = Health::new(bus);
        h.set("database", HealthStatus::Healthy, "ok");
        h.set("tmux", HealthStatus::Degraded, "tmux is not installed");
        h.set("tmux", HealthStatus::Degraded, "still not installed");
        assert_eq!(h.overall(), HealthStatus::Degraded);
        let mut alerts = 0;
        while let Ok(Received::Event(Event::SystemAlert { .. })) =
            tokio::time::timeout(std::time::Duration::from_millis(50), sub.recv()).await
        {
            alerts += 1;
        }
        assert_eq!(alerts, 2, "a repeated status is not a new alert");
    }
}
