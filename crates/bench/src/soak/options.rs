//! The soak's command-line options.

use crate::options::Flag;
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: paddock-bench soak [OPTIONS]

Runs a real `paddock up` with sessions and WSS clients under load and faults, checks that
nothing is lost, and exits 1 naming the check that failed.

options:
  --minutes M       how long the load runs (default 2; fractions allowed)
  --sessions N      sessions (default 50): a fifth flooding, a fifth interactive bash
                    shells typed into, the rest idle
  --clients N       WSS clients attaching, detaching and resuming at random (default 50)
  --fault-every S   seconds between faults (default 15); they take turns: kill -9 of the
                    supervisor, SIGSTOP/SIGCONT of it, a holder's client killed mid-frame,
                    every WSS connection dropped
  --stop-secs S     how long the supervisor stays stopped (default 3)
  --warmup S        seconds before memory and descriptors are taken as the baseline
                    (default 30)
  --flood-rate R    bytes a second each flooding session prints, about (default 500K)
  --seed N          the random seed (default: from the clock; printed)
  --paddock PATH    the paddock binary (default: `paddock` next to this executable)
  -h, --help        this text
";

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub paddock: Option<PathBuf>,
    pub duration: Duration,
    pub sessions: usize,
    pub clients: usize,
    pub fault_every: Duration,
    pub stop_for: Duration,
    pub warmup: Duration,
    pub flood_rate: u64,
    pub seed: u64,
}

impl SoakOptions {
    /// `Ok(None)` when help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Option<Self>> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        let mut o = Self {
            paddock: None,
            duration: Duration::from_secs(120),
            sessions: 50,
            clients: 50,
            fault_every: Duration::from_secs(15),
            stop_for: Duration::from_secs(3),
            warmup: Duration::from_secs(30),
            flood_rate: 500_000,
            seed,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(None);
            }
            let Flag { name: flag, inline } = Flag::split(&arg);
            let mut value = || Flag::value(&flag, inline.clone(), &mut args);
            let secs = |v: String| -> anyhow::Result<Duration> {
                let s: f64 = v
                    .parse()
                    .with_context(|| format!("{flag} takes seconds, not {v:?}"))?;
                if !(s.is_finite() && s >= 0.0) {
                    bail!("{flag} takes a positive number of seconds, not {v:?}");
                }
                Ok(Duration::from_secs_f64(s))
            };
            let count = |v: String| -> anyhow::Result<usize> {
                v.parse()
                    .with_context(|| format!("{flag} takes a whole number, not {v:?}"))
            };
            match flag.as_str() {
                "--minutes" => o.duration = secs(value()?)? * 60,
                "--sessions" => o.sessions = count(value()?)?,
                "--clients" => o.clients = count(value()?)?,
                "--fault-every" => o.fault_every = secs(value()?)?,
                "--stop-secs" => o.stop_for = secs(value()?)?,
                "--warmup" => o.warmup = secs(value()?)?,
                "--flood-rate" => o.flood_rate = crate::options::parse_bytes(&value()?)?,
                "--seed" => o.seed = count(value()?)? as u64,
                "--paddock" => o.paddock = Some(PathBuf::from(value()?)),
                _ => bail!("unknown option {arg:?}"),
            }
        }
        if o.sessions < 5 {
            bail!("--sessions must be at least 5 (one of each kind and more)");
        }
        if o.fault_every < Duration::from_secs(2) {
            bail!("--fault-every must be at least 2 seconds");
        }
        Ok(Some(o))
    }
}
