//! Where time comes from, so that tests can make it jump (ARCHITECTURE.md, "Machine faults").
//!
//! Two clocks with two jobs: the wall clock ([`SystemTime`]) for times that leave this process
//! (a token's `iat` and `exp`, an offer's `expires_at`), which the owner or NTP may move at any
//! moment; the monotonic clock ([`Instant`]) for how long something has lasted, which never
//! goes back. Used by [`crate::access`]; [`ManualClock`] is the one tests move.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The wall clock: may jump forward or back.
    fn wall(&self) -> SystemTime;
    /// The monotonic clock: never goes back.
    fn mono(&self) -> Instant;
}

/// The machine's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn mono(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told: [`ManualClock::advance`] moves both clocks (time
/// passing), [`ManualClock::jump_wall`] moves the wall clock alone (the owner or NTP setting
/// it). Cheap to clone; clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<(SystemTime, Instant)>>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new((SystemTime::now(), Instant::now()))),
        }
    }
}

impl ManualClock {
    fn with<T>(&self, f: impl FnOnce(&mut (SystemTime, Instant)) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Time passes: both clocks move forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.with(|t| {
            t.0 += by;
            t.1 += by;
        });
    }

    /// The wall clock is set `secs` seconds forward (positive) or back (negative, not before
    /// 1970); the monotonic clock does not move.
    pub fn jump_wall(&self, secs: i64) {
        let by = Duration::from_secs(secs.unsigned_abs());
        self.with(|t| {
            t.0 = if secs >= 0 {
                t.0 + by
            } else {
                t.0.checked_sub(by)
                    .filter(|t| *t >= SystemTime::UNIX_EPOCH)
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            };
        });
    }
}

impl Clock for ManualClock {
    fn wall(&self) -> SystemTime {
        self.with(|t| t.0)
    }

    fn mono(&self) -> Instant {
        self.with(|t| t.1)
    }
}

/// `t` as RFC 3339 to the second, for people and wire fields. A time before 1970 (a clock
/// set far back, a damaged record) is shown as 1970-01-01T00:00:00Z instead of panicking as
/// `humantime` does.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t.max(SystemTime::UNIX_EPOCH)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_before_1970_is_shown_as_the_epoch_instead_of_panicking() {
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(86400);
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn a_wall_jump_moves_the_wall_clock_only() {
        let c = ManualClock::default();
        let (wall, mono) = (c.wall(), c.mono());
        c.jump_wall(-7200);
        assert_eq!(
            wall.duration_since(c.wall()).ok(),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(c.mono(), mono);
        c.jump_wall(i64::MIN);
        assert_eq!(c.wall(), SystemTime::UNIX_EPOCH, "clamped, no panic");
    }
}
