//! The results: a markdown table for people, the same figures (with every sample summary and
//! the machine they were taken on) as JSON for programs.

use crate::harness::Harness;
use crate::options::Options;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    figure: String,
    value: String,
    beside: String,
    target: Option<(String, bool)>,
}

impl Row {
    pub fn new(figure: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            figure: figure.into(),
            value: value.into(),
            beside: String::new(),
            target: None,
        }
    }

    /// What the value compares with (a baseline, a ratio, a detail).
    pub fn beside(mut self, text: impl Into<String>) -> Self {
        self.beside = text.into();
        self
    }

    /// The target this figure must meet, and whether it does.
    pub fn target(mut self, text: impl Into<String>, met: bool) -> Self {
        self.target = Some((text.into(), met));
        self
    }
}

/// Everything measured in one run.
pub struct Report {
    header: Value,
    rows: Vec<Row>,
    results: Map<String, Value>,
    failures: Vec<(String, String)>,
    load_at_end: Option<f64>,
}

impl Report {
    pub fn new(opts: &Options, h: &Harness) -> Self {
        let header = json!({
            "date": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            "machine": machine(),
            "paddock": h.paddock().display().to_string(),
            "tmux": crate::tmux::Tmux::version(),
            "options": {
                "size": opts.size,
                "ring": opts.ring,
                "rounds": opts.rounds,
                "clients": opts.clients,
                "samples": opts.samples,
                "attaches": opts.attaches,
                "idle_secs": opts.idle.as_secs(),
                "window_secs": opts.window.as_secs(),
                "tmux": opts.tmux,
                "only": opts.only,
                "halt_poll": opts.halt_poll,
            },
        });
        Self {
            header,
            rows: Vec::new(),
            results: Map::new(),
            failures: Vec::new(),
            load_at_end: None,
        }
    }

    /// Notes the load average once every measurement has run.
    pub fn finish(&mut self) {
        self.load_at_end = load_average();
    }

    pub fn add(&mut self, row: Row) {
        eprintln!("  {}: {} {}", row.figure, row.value, row.beside);
        self.rows.push(row);
    }

    /// Stores the detailed figures of one measurement under `key` in the JSON.
    pub fn record(&mut self, key: &str, value: Value) {
        self.results.insert(key.to_owned(), value);
    }

    /// Records that `figure` could not be measured, and why.
    pub fn fail(&mut self, figure: &str, err: &anyhow::Error) {
        let why = format!("{err:#}");
        eprintln!("  {figure}: FAILED: {why}");
        self.rows
            .push(Row::new(figure, "failed").beside(why.replace('|', "/")));
        self.failures.push((figure.to_owned(), why));
    }

    pub fn failures(&self) -> usize {
        self.failures.len()
    }

    pub fn markdown(&self) -> String {
        let h = &self.header;
        let m = &h["machine"];
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} on {} ({} cores, {} GiB), Linux {}{}, {}; {} MiB per throughput run; \
             load average {} at the start, {} at the end.\n",
            h["date"].as_str().unwrap_or("?"),
            m["cpu"].as_str().unwrap_or("?"),
            m["cores"],
            m["memory_gib"],
            m["kernel"].as_str().unwrap_or("?"),
            m["guest_halt_poll_ns"]
                .as_u64()
                .map_or(String::new(), |ns| format!(" (guest halt polling {ns} ns)")),
            h["tmux"].as_str().unwrap_or("no tmux"),
            h["options"]["size"].as_u64().unwrap_or(0) >> 20,
            m["load_at_start"],
            self.load_at_end.map_or("?".to_owned(), |l| l.to_string()),
        );
        out.push_str("| Figure | Result | Beside | Target |\n");
        out.push_str("|---|---|---|---|\n");
        for r in &self.rows {
            let target = match &r.target {
                Some((t, true)) => format!("{t} ✓"),
                Some((t, false)) => format!("{t} ✗ **missed**"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.figure, r.value, r.beside, target
            );
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let table: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "figure": r.figure,
                    "value": r.value,
                    "beside": r.beside,
                    "target": r.target.as_ref().map(|(t, _)| t),
                    "met": r.target.as_ref().map(|(_, m)| m),
                })
            })
            .collect();
        let failures: Vec<Value> = self
            .failures
            .iter()
            .map(|(f, why)| json!({"figure": f, "error": why}))
            .collect();
        let mut out = self.header.clone();
        out["results"] = Value::Object(self.results.clone());
        out["table"] = Value::Array(table);
        out["failures"] = Value::Array(failures);
        out["machine"]["load_at_end"] = json!(self.load_at_end);
        out
    }
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_kib as f64 / (1 << 20) as f64).round(),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned()),
        "load_at_start": load_average(),
        "guest_halt_poll_ns": crate::haltpoll::current(),
    })
}

/// The 1-minute load average: other work on the machine skews every figure.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Millions of bytes per second.
pub fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

/// The `p`-th percentile (0..=100) by nearest rank; `samples` need not be sorted.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// p50, p99, max and mean of latency samples, in µs, for the JSON.
pub fn latency_summary(samples: &[Duration]) -> Value {
    let mean = samples.iter().sum::<Duration>() / samples.len().max(1) as u32;
    json!({
        "samples": samples.len(),
        "p50_us": micros(percentile(samples, 50.0)),
        "p90_us": micros(percentile(samples, 90.0)),
        "p99_us": micros(percentile(samples, 99.0)),
        "max_us": micros(percentile(samples, 100.0)),
        "mean_us": micros(mean),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&samples, 100.0), Duration::from_micros(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
