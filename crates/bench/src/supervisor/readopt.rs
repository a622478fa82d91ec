//! Measurement 2, re-adoption: `kill -9` the supervisor, start it again and time until it
//! lists every holder with its agent's pid, checking that every holder and agent stays
//! alive; the report's row.

use super::daemon::{wait_listed, Supervisor};
use super::env::Env;
use super::fleet::Fleet;
use super::{LIST_LIMIT, READOPT_LIMIT, RESTARTS, TARGET_READOPT};
use crate::harness::{process_alive, Harness};
use crate::report::{percentile, Report, Row};
use anyhow::bail;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub(super) struct Readoption {
    holders: usize,
    times: Vec<Duration>,
}

impl Readoption {
    pub(super) fn json(&self) -> Value {
        json!({
            "holders": self.holders,
            "restarts_ms": self.times.iter().map(|t| t.as_secs_f64() * 1e3).collect::<Vec<_>>(),
            "median_ms": percentile(&self.times, 50.0).as_secs_f64() * 1e3,
            "max_ms": percentile(&self.times, 100.0).as_secs_f64() * 1e3,
            "agents_alive_throughout": true,
        })
    }
}

pub(super) fn add_readopt_row(report: &mut Report, r: &Readoption) {
    let median = percentile(&r.times, 50.0);
    let max = percentile(&r.times, 100.0);
    let all: Vec<String> = r
        .times
        .iter()
        .map(|t| format!("{:.0}", t.as_secs_f64() * 1e3))
        .collect();
    report.add(
        Row::new(
            format!(
                "Re-adoption after kill -9, {} holders, median / max",
                r.holders
            ),
            format!(
                "{:.0} / {:.0} ms",
                median.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            ),
        )
        .beside(format!(
            "spawn of `paddock up` → all {} holders listed with their agents' pids; {} restarts \
             ({} ms); every holder and agent stayed alive",
            r.holders,
            r.times.len(),
            all.join(", ")
        ))
        .target("≤ 1 s", max <= TARGET_READOPT),
    );
}

/// `kill -9` the supervisor, start it again, time until it lists every holder; `RESTARTS`
/// times. `sup` is the running supervisor, and the last one started on return.
pub(super) async fn readoption(
    h: &Harness,
    env: &Env,
    sup: &mut Supervisor,
    fleet: &Fleet,
) -> anyhow::Result<Readoption> {
    let want = fleet.holder_pids();
    let check_alive = |when: &str| -> anyhow::Result<()> {
        for s in &fleet.holders {
            if !process_alive(s.agent_pid) || !process_alive(s.holder_pid) {
                bail!(
                    "session {} (holder {}, agent {}) died {when}",
                    s.id,
                    s.holder_pid,
                    s.agent_pid
                );
            }
        }
        Ok(())
    };
    // The running supervisor knows them all before the first kill.
    wait_listed(&env.socket(), &want, 0, Instant::now() + LIST_LIMIT).await?;
    let mut times = Vec::new();
    for round in 1..=RESTARTS {
        // Let the supervisor reach its steady state (first samples, discovery) before the kill.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if !sup.alive() {
            bail!("the supervisor exited on its own before restart {round}");
        }
        sup.kill9();
        check_alive(&format!("when the supervisor was killed (restart {round})"))?;
        *sup = Supervisor::spawn(h, env)?;
        wait_listed(&env.socket(), &want, 0, sup.spawned_at + READOPT_LIMIT).await?;
        let took = sup.spawned_at.elapsed();
        check_alive(&format!("during restart {round}"))?;
        eprintln!(
            "  restart {round}: {} holders listed after {:.1} ms",
            want.len(),
            took.as_secs_f64() * 1e3
        );
        times.push(took);
    }
    Ok(Readoption {
        holders: want.len(),
        times,
    })
}
