//! Instants as unix milliseconds: the one time type of every record and every table.
//!
//! SQLite stores them as INTEGER; JSON carries them as plain numbers, which the UI reads as
//! `new Date(ms)`. Convert from and to [`SystemTime`] at the edges.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch (UTC). Negative before 1970.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMs(pub i64);

impl UnixMs {
    /// The current wall-clock time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }

    /// This instant plus `ms` milliseconds (minus when negative), saturating.
    pub fn add_ms(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl From<SystemTime> for UnixMs {
    /// Truncates to whole milliseconds; saturates beyond ±292 million years.
    fn from(t: SystemTime) -> Self {
        let to_ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => Self(to_ms(after)),
            Err(before) => Self(-to_ms(before.duration())),
        }
    }
}

impl From<UnixMs> for SystemTime {
    fn from(t: UnixMs) -> Self {
        t.to_system_time()
    }
}

impl fmt::Display for UnixMs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_round_trips_through_millis() {
        for ms in [0, 1, 1_700_000_000_123, -1, -86_400_000] {
            let t = UnixMs(ms);
            assert_eq!(UnixMs::from(t.to_system_time()), t);
        }
        let now = SystemTime::now();
        let back = UnixMs::from(now).to_system_time();
        assert!(now.duration_since(back).expect("not after") < Duration::from_millis(1));
    }
}
