//! Puts the supervisor's own log lines (info and above) on the event bus as `log_entry`, so
//! clients can show a live tail of what the supervisor does.

use crate::events::{Bus, Event};
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// A `tracing` layer that publishes events on `bus`.
pub struct BusLayer {
    bus: Bus,
}

impl BusLayer {
    pub fn new(bus: Bus) -> Self {
        Self { bus }
    }
}

#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

impl<S: Subscriber> Layer<S> for BusLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        if level > Level::INFO {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        self.bus.publish(Event::LogEntry {
            level: level.as_str().to_ascii_lowercase(),
            message: line.0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Received;
    use tracing_subscriber::prelude::*;

    #[tokio::test]
    async fn info_and_above_reach_the_bus() {
        let bus = Bus::new();
        let mut sub = bus.subscribe();
        let subscriber = tracing_subscriber::registry().with(BusLayer::new(bus.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("too chatty");
            tracing::warn!(path = "/x", "cannot write");
        });
        match sub.recv().await {
            Received::Event(Event::LogEntry { level, message }) => {
                assert_eq!(level, "warn");
                assert_eq!(message, "cannot write path=/x");
            }
            other => panic!("expected the warning, got {other:?}"),
        }
    }
}
