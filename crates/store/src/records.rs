//! The plain records the store keeps and returns, and the queries and reports about them.
//!
//! The supervisor builds these and hands them to [`crate::Store`]; readers get them back.
//! Every time is a [`UnixMs`]. Every field is public; the serde forms are what the endpoint
//! may serve as they are.

use crate::time::UnixMs;
use paddock_proto::supervisor::Backend;
use paddock_proto::SessionId;
use serde::{Deserialize, Serialize};

/// One session of any agent (Claude Code, Codex, a shell...), as the supervisor last saw it.
///
/// [`crate::Store::upsert_session`] replaces the whole row of the same `id`: the newest record
/// wins, field by field, so send the full current state each time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: SessionId,
    /// The agent running in it: `claude`, `codex`, `gemini`, `aider`, a configured name, or
    /// `unknown`.
    pub agent: String,
    pub backend: Backend,
    pub name: Option<String>,
    pub cwd: Option<String>,
    /// The pid of the session's main process, while it is known.
    pub pid: Option<u32>,
    /// The supervisor's state name (`starting`, `working`, `waiting_permission`,
    /// `waiting_input`, `idle`, `completed`, `errored`, `exited`, ...). The store does not
    /// interpret it.
    pub state: String,
    pub title: Option<String>,
    pub started: UnixMs,
    /// Set once the session has ended; retention deletes ended sessions only.
    pub ended: Option<UnixMs>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// What the session cost so far, in US dollars.
    pub cost_usd: f64,
    pub last_activity: Option<UnixMs>,
    /// Anything else worth keeping, as a JSON value (`null` is stored as `{}`).
    pub extra: serde_json::Value,
}

impl SessionRecord {
    /// A session that starts now-ish with nothing else known: fill in the rest by field.
    pub fn new(id: SessionId, agent: impl Into<String>, backend: Backend, started: UnixMs) -> Self {
        Self {
            id,
            agent: agent.into(),
            backend,
            name: None,
            cwd: None,
            pid: None,
            state: "starting".to_owned(),
            title: None,
            started,
            ended: None,
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            last_activity: None,
            extra: serde_json::Value::Object(Default::default()),
        }
    }
}

/// One process Paddock watches (an agent, or a process of an agent's tree). A pid alone is
/// reused by the system, so a process is identified by `(pid, start)`.
///
/// [`crate::Store::upsert_process`] merges into the row of the same `(pid, start)`:
/// `command` and `args` take the newest value; `cwd`, `session`, `agent` and `exit_code` take
/// the newest value that is set (a later `None` keeps what was known); `first_seen` keeps the
/// earliest and `last_seen` the latest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub pid: u32,
    /// When the process started (from the process table).
    pub start: UnixMs,
    pub command: String,
    pub args: Vec<String>,
    pub cwd: Option<String>,
    /// The session it belongs to, once attributed.
    pub session: Option<SessionId>,
    pub agent: Option<String>,
    pub first_seen: UnixMs,
    pub last_seen: UnixMs,
    /// Set once the process has exited and its code is known.
    pub exit_code: Option<i32>,
}

impl ProcessRecord {
    /// The key the store merges on.
    pub fn key(&self) -> (u32, i64) {
        (self.pid, self.start.0)
    }

    /// Folds a newer observation of the same process into this one, exactly as the SQL
    /// upsert does (see the type's documentation).
    pub(crate) fn merge(&mut self, newer: ProcessRecord) {
        let ProcessRecord {
            pid: _,
            start: _,
            command,
            args,
            cwd,
            session,
            agent,
            first_seen,
            last_seen,
            exit_code,
        } = newer;
        self.command = command;
        self.args = args;
        self.cwd = cwd.or(self.cwd.take());
        self.session = session.or(self.session.take());
        self.agent = agent.or(self.agent.take());
        self.first_seen = self.first_seen.min(first_seen);
        self.last_seen = self.last_seen.max(last_seen);
        self.exit_code = exit_code.or(self.exit_code);
    }
}

/// How much an activity entry matters. Ordered: `Debug < Info < Warn < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Debug, Level::Info, Level::Warn, Level::Error];

    /// The name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// One entry of the activity log: something that happened, to a session or to Paddock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// Assigned by the store, increasing, never reused; `None` in records given to
    /// [`crate::Store::log_activity`] (any value given is ignored).
    pub id: Option<i64>,
    pub time: UnixMs,
    pub session: Option<SessionId>,
    pub level: Level,
    /// A short machine-readable kind: `tool_use`, `permission_request`, `state`, ...
    pub kind: String,
    /// One line for people.
    pub message: String,
    /// Structured details; `null` when there are none.
    pub details: serde_json::Value,
}

impl ActivityRecord {
    /// An entry without details.
    pub fn new(
        time: UnixMs,
        session: Option<SessionId>,
        level: Level,
        kind: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            id: None,
            time,
            session,
            level,
            kind: kind.into(),
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }
}

/// What the activity log is asked for. Every filter is optional; results are newest first
/// (by time, then by id).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityQuery {
    /// Only this session's entries.
    pub session: Option<SessionId>,
    /// Only entries at this level or above (`warn` gives warnings and errors).
    pub level: Option<Level>,
    /// Only entries of this kind.
    pub kind: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<UnixMs>,
    /// Only entries with a smaller id, to page back from the oldest entry already shown (ids
    /// increase in the order entries were written, which is time order unless an entry is
    /// logged late).
    pub before_id: Option<i64>,
    /// At most this many entries; `None` for all.
    pub limit: Option<u32>,
}

/// What a metric sample is about: the whole host or one session's process tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum MetricTarget {
    Host,
    Session(SessionId),
}

/// A resolution tier of the metric history. The writer adds every 1 s sample to the raw tier
/// and, in the same transaction, to the 1 min and 10 min buckets it falls in; retention then
/// keeps each tier for its own span (see [`Tier::keep_ms`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    /// The samples as recorded (about one a second), kept for an hour.
    #[serde(rename = "raw")]
    Raw,
    /// 1-minute averages, kept for a day.
    #[serde(rename = "1m")]
    Minute,
    /// 10-minute averages, kept for the retention period (30 days by default).
    #[serde(rename = "10m")]
    TenMinutes,
}

impl Tier {
    /// Finest first.
    pub const ALL: [Tier; 3] = [Tier::Raw, Tier::Minute, Tier::TenMinutes];

    /// The number stored in the `tier` column.
    pub fn as_i64(self) -> i64 {
        match self {
            Tier::Raw => 0,
            Tier::Minute => 1,
            Tier::TenMinutes => 2,
        }
    }

    pub fn from_i64(n: i64) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_i64() == n)
    }

    /// The width of one bucket, in ms. A raw row is one instant: its bucket is 1 ms wide.
    pub fn bucket_ms(self) -> i64 {
        match self {
            Tier::Raw => 1,
            Tier::Minute => 60_000,
            Tier::TenMinutes => 600_000,
        }
    }

    /// How long the tier is kept, in ms; `None` for "as long as the retention period".
    pub fn keep_ms(self) -> Option<i64> {
        match self {
            Tier::Raw => Some(3_600_000),
            Tier::Minute => Some(86_400_000),
            Tier::TenMinutes => None,
        }
    }

    /// The start of the bucket of this tier that holds `t`.
    pub fn bucket_start(self, t: UnixMs) -> UnixMs {
        let w = self.bucket_ms();
        UnixMs(t.0.div_euclid(w) * w)
    }
}

/// Whole-host figures that only a [`MetricTarget::Host`] sample carries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HostMetrics {
    pub mem_total_bytes: u64,
    pub swap_used_bytes: u64,
    /// The 1-minute load average.
    pub load_1m: f64,
}

/// One metric sample, or (when read back from a coarser tier) the average of a bucket.
///
/// Given to [`crate::Store::record_metric`]: `target`, `time`, `cpu_percent`, `rss_bytes` and
/// `host` count; the store sets `tier`, `samples` and the maxima itself. At most one sample per
/// target and millisecond is kept (a repeat is ignored, so a sample sent twice is never
/// counted twice in the averages).
///
/// Read back from [`Tier::Minute`] or [`Tier::TenMinutes`]: `time` is the bucket's start,
/// `samples` how many raw samples it averages, `cpu_percent`, `rss_bytes` and `host` their
/// averages, and the `*_max_*` fields their maxima.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    pub target: MetricTarget,
    pub time: UnixMs,
    pub tier: Tier,
    pub samples: u32,
    /// CPU use in percent of one core (so 250 means two and a half cores). For the host: of
    /// the whole machine, as the monitor reports it.
    pub cpu_percent: f64,
    pub cpu_max_percent: f64,
    /// Resident memory of the target's process tree; for the host, the memory in use.
    pub rss_bytes: u64,
    pub rss_max_bytes: u64,
    pub host: Option<HostMetrics>,
}

impl MetricSample {
    /// A raw sample.
    pub fn new(target: MetricTarget, time: UnixMs, cpu_percent: f64, rss_bytes: u64) -> Self {
        Self {
            target,
            time,
            tier: Tier::Raw,
            samples: 1,
            cpu_percent,
            cpu_max_percent: cpu_percent,
            rss_bytes,
            rss_max_bytes: rss_bytes,
            host: None,
        }
    }

    /// The same sample carrying whole-host figures.
    pub fn with_host(mut self, host: HostMetrics) -> Self {
        self.host = Some(host);
        self
    }
}

/// What [`crate::Store::enforce_retention`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    pub activity: u64,
    /// Rows of every tier: retention-period deletions plus the raw and 1 min tiers' own
    /// shorter spans.
    pub metric_samples: u64,
    pub sessions: u64,
    pub processes: u64,
    /// Notifications, with their deliveries and attempts.
    pub notifications: u64,
}
