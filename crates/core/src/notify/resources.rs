//! The resource-threshold rule: a session's process tree (from the monitor's
//! `process_update`s) or the host (the watcher's samples) above a cpu or memory level for
//! `[notify.rules.resources] for` becomes one notification; the same target notifies again
//! only after it fell back below. Pure: the caller gives the time.

use super::config::ResourceRule;
use super::model::NotificationKind;
use super::rules::Draft;
use paddock_proto::SessionId;
use std::collections::HashMap;
use std::time::Instant;

/// What a level is measured on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Session(SessionId),
    Host,
}

/// One sample of a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// A session: percent of one core; the host: percent of the machine.
    pub cpu_percent: f32,
    /// A session: resident bytes.
    pub rss_bytes: u64,
    /// The host: percent of memory in use.
    pub memory_percent: f32,
}

#[derive(Default)]
struct Level {
    /// Since when it has been above, in this stretch.
    above_since: Option<Instant>,
    /// This stretch was told already.
    told: bool,
}

/// What the rule remembers per target.
#[derive(Default)]
pub struct Thresholds {
    levels: HashMap<Target, Level>,
}

impl Thresholds {
    /// A new sample of `target` (named `name` in the text): the notification it deserves, if any.
    pub fn observe(
        &mut self,
        rule: &ResourceRule,
        target: Target,
        name: &str,
        sample: Sample,
        now: Instant,
    ) -> Option<Draft> {
        if !rule.enabled {
            return None;
        }
        let over = over(rule, &target, sample);
        let level = self.levels.entry(target.clone()).or_default();
        let Some(what) = over else {
            *level = Level::default();
            return None;
        };
        let since = *level.above_since.get_or_insert(now);
        if level.told || now.duration_since(since) < rule.for_ {
            return None;
        }
        level.told = true;
        let held = humantime::format_duration(std::time::Duration::from_secs(
            now.duration_since(since).as_secs(),
        ));
        Some(Draft {
            kind: NotificationKind::Resource,
            rule: "resources".into(),
            title: match target {
                Target::Host => format!("This machine's {what}"),
                Target::Session(_) => format!("{name}: {what}"),
            },
            body: format!("Above the level for {held} ([notify.rules.resources])."),
            request: None,
        })
    }

    /// A session is gone.
    pub fn forget(&mut self, id: &SessionId) {
        self.levels.remove(&Target::Session(id.clone()));
    }
}

/// Which level `sample` is above, in words.
fn over(rule: &ResourceRule, target: &Target, s: Sample) -> Option<String> {
    if s.cpu_percent > rule.cpu_percent {
        return Some(format!(
            "cpu at {:.0} % (level {:.0} %)",
            s.cpu_percent, rule.cpu_percent
        ));
    }
    match target {
        Target::Session(_) => {
            let mib = s.rss_bytes / (1024 * 1024);
            (mib > rule.memory_mib)
                .then(|| format!("memory at {mib} MiB (level {} MiB)", rule.memory_mib))
        }
        Target::Host => (s.memory_percent > rule.host_memory_percent).then(|| {
            format!(
                "memory {:.0} % in use (level {:.0} %)",
                s.memory_percent, rule.host_memory_percent
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rule() -> ResourceRule {
        ResourceRule {
            enabled: true,
            cpu_percent: 90.0,
            memory_mib: 100,
            host_memory_percent: 80.0,
            for_: Duration::from_secs(60),
        }
    }

    fn busy(cpu: f32) -> Sample {
        Sample {
            cpu_percent: cpu,
            rss_bytes: 10 << 20,
            memory_percent: 10.0,
        }
    }

    #[test]
    fn a_session_above_the_cpu_level_for_the_duration_notifies_once_until_it_falls_back() {
        let mut t = Thresholds::default();
        let s = Target::Session(SessionId::parse("s1").expect("id"));
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        assert!(t
            .observe(&rule(), s.clone(), "build", busy(99.0), at(0))
            .is_none());
        assert!(t
            .observe(&rule(), s.clone(), "build", busy(99.0), at(30))
            .is_none());
        let d = t
            .observe(&rule(), s.clone(), "build", busy(99.0), at(61))
            .expect("held for a minute");
        assert_eq!(d.kind, NotificationKind::Resource);
        assert!(d.title.contains("build: cpu at 99 %"), "{}", d.title);
        assert!(d.body.contains("1m 1s"), "{}", d.body);
        assert!(
            t.observe(&rule(), s.clone(), "build", busy(99.0), at(200))
                .is_none(),
            "once"
        );
        assert!(t
            .observe(&rule(), s.clone(), "build", busy(5.0), at(201))
            .is_none());
        assert!(
            t.observe(&rule(), s.clone(), "build", busy(99.0), at(202))
                .is_none(),
            "a new stretch starts"
        );
        assert!(t
            .observe(&rule(), s, "build", busy(99.0), at(263))
            .is_some());
    }

    #[test]
    fn a_dip_below_the_level_starts_the_duration_again() {
        let mut t = Thresholds::default();
        let t0 = Instant::now();
        let at = |secs| t0 + Duration::from_secs(secs);
        let mem = |mib: u64| Sample {
            cpu_percent: 0.0,
            rss_bytes: mib << 20,
            memory_percent: 0.0,
        };
        let s = || Target::Session(SessionId::parse("s2").expect("id"));
        assert!(t.observe(&rule(), s(), "leak", mem(500), at(0)).is_none());
        assert!(t.observe(&rule(), s(), "leak", mem(50), at(40)).is_none());
        assert!(t.observe(&rule(), s(), "leak", mem(500), at(50)).is_none());
        assert!(t.observe(&rule(), s(), "leak", mem(500), at(100)).is_none());
        let d = t
            .observe(&rule(), s(), "leak", mem(500), at(111))
            .expect("a minute over");
        assert!(d.title.contains("memory at 500 MiB"), "{}", d.title);
    }

    #[test]
    fn the_host_is_measured_by_its_share_of_memory_and_an_off_rule_says_nothing() {
        let mut t = Thresholds::default();
        let t0 = Instant::now();
        let full = Sample {
            cpu_percent: 1.0,
            rss_bytes: u64::MAX,
            memory_percent: 85.0,
        };
        assert!(t.observe(&rule(), Target::Host, "", full, t0).is_none());
        let d = t
            .observe(
                &rule(),
                Target::Host,
                "",
                full,
                t0 + Duration::from_secs(60),
            )
            .expect("host memory");
        assert!(
            d.title.starts_with("This machine's memory 85 %"),
            "{}",
            d.title
        );
        let off = ResourceRule {
            enabled: false,
            ..rule()
        };
        let mut t = Thresholds::default();
        assert!(t.observe(&off, Target::Host, "", full, t0).is_none());
        assert!(t
            .observe(&off, Target::Host, "", full, t0 + Duration::from_secs(600))
            .is_none());
    }
}
