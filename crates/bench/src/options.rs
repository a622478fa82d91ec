//! Command-line options (a handful of flags, parsed by hand to keep the crate's dependencies
//! to what it measures with).

use anyhow::{anyhow, bail, Context};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: paddock-bench [OPTIONS]

Measures the paddock holder beside a bare PTY and tmux, and the supervisor's idle cost
and re-adoption; prints a markdown table.

options:
  --paddock PATH   the paddock binary (default: `paddock` next to this executable)
  --json PATH      also write the results as JSON to PATH
  --size SIZE      bytes pushed in the throughput runs (default 256M; K, M, G suffixes)
  --ring SIZE      the holder's ring in the throughput runs (default 64M)
  --rounds N       alternating bare-PTY / holder throughput rounds, median kept (default 3)
  --clients N      clients in the fan-out throughput run (default 10)
  --follows N      `paddock logs --follow --raw` runs in the lossless measurement (default 5)
  --samples N      keystroke round trips measured after warmup (default 2000)
  --attaches N     attaches timed (default 200)
  --idle SECS      the idle window for wakeups (default 10)
  --window SECS    each idle window of the supervisor (default 60)
  --no-tmux        skip the tmux comparisons
  --halt-poll NS   also measure the keystroke round trip with the guest's halt polling
                   (/sys/module/haltpoll/parameters/guest_halt_poll_ns) at NS for that
                   pass, restored after (root only; the kernel's default is 200000)
  --transcripts-size SIZE
                   the generated transcript history to index (default 1G)
  --hook-events N  hooks fired in the hook measurement (default 500)
  --osc-reports N  OSC 7501 reports timed in the osc measurement (default 500)
  --only LIST      run only these, comma-separated: throughput, latency, idle, attach,
                   supervisor, hooks, transcripts, endpoint, lossless,
                   conversation, client, notify, notify-cost, mcp, osc, screens
  -h, --help       this text
";

/// What to measure and how much.
#[derive(Debug, Clone)]
pub struct Options {
    pub paddock: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub size: u64,
    pub ring: u64,
    pub rounds: usize,
    pub clients: usize,
    /// `logs --follow --raw` runs in the lossless measurement.
    pub follows: usize,
    pub samples: usize,
    pub attaches: usize,
    pub idle: Duration,
    /// Each idle window of the supervisor.
    pub window: Duration,
    pub tmux: bool,
    /// A second keystroke pass with the guest's halt polling at this many ns.
    pub halt_poll: Option<u64>,
    /// Measurements to run; empty means all.
    pub only: Vec<String>,
    /// The transcript history generated for the indexing run.
    pub transcripts_size: u64,
    /// Hooks fired in the hook measurement.
    pub hook_events: usize,
    /// OSC 7501 reports timed in the osc measurement.
    pub osc_reports: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            paddock: None,
            json: None,
            size: 256 << 20,
            ring: 64 << 20,
            rounds: 3,
            clients: 10,
            follows: 5,
            samples: 2000,
            attaches: 200,
            idle: Duration::from_secs(10),
            window: Duration::from_secs(60),
            tmux: true,
            halt_poll: None,
            only: Vec::new(),
            transcripts_size: 1 << 30,
            hook_events: 500,
            osc_reports: 500,
        }
    }
}

/// The measurements, in the order they run.
pub const MEASUREMENTS: [&str; 16] = [
    "throughput",
    "latency",
    "idle",
    "attach",
    "supervisor",
    "hooks",
    "transcripts",
    "endpoint",
    "lossless",
    "conversation",
    "client",
    "notify",
    "notify-cost",
    "mcp",
    "osc",
    // screens: begin
    "screens",
    // screens: end
];

impl Options {
    /// Whether `measurement` is to run.
    pub fn wants(&self, measurement: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|m| m == measurement)
    }

    /// `Ok(None)` when help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Option<Self>> {
        let mut opts = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Flag { name: flag, inline } = Flag::split(&arg);
            let mut value = || Flag::value(&flag, inline.clone(), &mut args);
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--paddock" => opts.paddock = Some(PathBuf::from(value()?)),
                "--json" => opts.json = Some(PathBuf::from(value()?)),
                "--size" => opts.size = parse_bytes(&value()?)?,
                "--ring" => opts.ring = parse_bytes(&value()?)?,
                "--rounds" => opts.rounds = parse_count(&flag, &value()?)?,
                "--clients" => opts.clients = parse_count(&flag, &value()?)?,
                "--follows" => opts.follows = parse_count(&flag, &value()?)?,
                "--samples" => opts.samples = parse_count(&flag, &value()?)?,
                "--attaches" => opts.attaches = parse_count(&flag, &value()?)?,
                "--idle" => opts.idle = Duration::from_secs(parse_count(&flag, &value()?)? as u64),
                "--window" => {
                    opts.window = Duration::from_secs(parse_count(&flag, &value()?)? as u64)
                }
                "--no-tmux" => opts.tmux = false,
                "--halt-poll" => {
                    let v = value()?;
                    opts.halt_poll = Some(v.parse().map_err(|_| {
                        anyhow!("--halt-poll wants nanoseconds (e.g. 200000), not `{v}`")
                    })?)
                }
                "--transcripts-size" => opts.transcripts_size = parse_bytes(&value()?)?,
                "--hook-events" => opts.hook_events = parse_count(&flag, &value()?)?,
                "--osc-reports" => opts.osc_reports = parse_count(&flag, &value()?)?,
                "--only" => {
                    for name in value()?.split(',').map(str::trim) {
                        if !MEASUREMENTS.contains(&name) {
                            bail!("--only knows {}, not `{name}`", MEASUREMENTS.join(", "));
                        }
                        opts.only.push(name.to_owned());
                    }
                }
                other => bail!("unknown option `{other}`"),
            }
        }
        Ok(Some(opts))
    }
}

/// One command-line argument read as a flag: `--flag=value` split at the `=`, anything
/// else whole (its value, if it takes one, is then the next argument). Shared with the
/// soak's options.
pub struct Flag {
    pub name: String,
    pub inline: Option<String>,
}

impl Flag {
    pub fn split(arg: &str) -> Self {
        match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => Self {
                name: f.to_owned(),
                inline: Some(v.to_owned()),
            },
            _ => Self {
                name: arg.to_owned(),
                inline: None,
            },
        }
    }

    /// The value of flag `name`: `inline`, else the next of `rest`; an error naming the flag
    /// when there is none.
    pub fn value(
        name: &str,
        inline: Option<String>,
        rest: &mut impl Iterator<Item = String>,
    ) -> anyhow::Result<String> {
        inline
            .or_else(|| rest.next())
            .ok_or_else(|| anyhow!("{name} needs a value"))
    }
}

fn parse_count(flag: &str, s: &str) -> anyhow::Result<usize> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("{flag} wants a positive number, not `{s}`"),
    }
}

/// `256M`, `64k`, `1G` or a plain number of bytes.
pub fn parse_bytes(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => bail!("unknown unit in `{s}`: use K, M or G"),
    };
    let n: u64 = num
        .trim()
        .parse()
        .with_context(|| format!("`{s}` is not a size like 256M"))?;
    match n.checked_mul(mult) {
        Some(bytes) if bytes > 0 => Ok(bytes),
        _ => bail!("`{s}` is not a usable size"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_bytes("256M").ok(), Some(256 << 20));
        assert_eq!(parse_bytes("64k").ok(), Some(64 << 10));
        assert_eq!(parse_bytes("1000").ok(), Some(1000));
        assert!(parse_bytes("3X").is_err());
        assert!(parse_bytes("0").is_err());
    }

    #[test]
    fn flags_take_values_inline_or_next() {
        let args = ["--size=1M", "--clients", "3", "--no-tmux"].map(String::from);
        let opts = Options::parse(args).ok().flatten().expect("valid options");
        assert_eq!((opts.size, opts.clients, opts.tmux), (1 << 20, 3, false));
        assert!(Options::parse(["--clients".to_owned()]).is_err());
        assert!(Options::parse(["--bogus".to_owned()]).is_err());
    }
}
