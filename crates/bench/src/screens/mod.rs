//! Screen-only accuracy: how often the state the supervisor reads from an agent's screen
//! alone (no hooks, no OSC 7501) agrees with the agent's own exact reports, on the recorded
//! corpus of real agent terminals (`crates/agents/tests/corpus/`, its README says how it was
//! recorded). `paddock-bench --only screens` prints the agreement per agent and state;
//! `paddock-bench record-screens` re-records the corpus with the pinned agents.

pub mod corpus;
pub mod record;
pub mod replay;
pub mod scenarios;

use crate::report::{Report, Row};
use replay::Agreement;
use std::collections::BTreeMap;

/// The bar: agreement overall and in every state.
pub const BAR: f64 = 0.95;

/// What `cargo test` holds the corpus to: per agent and state, the share of samples the
/// screen agreed on after the classifier fixes of 2026-12-07 (issue 15, item 7; the corpus's
/// Claude Code permission and idle recordings re-recorded that day). A change that loses
/// agreement fails; one that gains raises these. Every state the corpus labels is here.
#[cfg(test)]
const BASELINE: &[(&str, &str, f64)] = &[
    ("claude", "working", 1.0),
    ("claude", "waiting_input", 1.0),
    ("claude", "waiting_permission", 1.0),
    ("claude", "idle", 1.0),
    ("claude", "errored", 0.966),
    ("codex", "working", 1.0),
    ("codex", "waiting_input", 1.0),
    ("codex", "waiting_permission", 1.0),
    ("codex", "idle", 1.0),
    ("codex", "errored", 1.0),
    // Gemini CLI 0.61.0, labelled by its hooks (it sends no OSC 7501; no hook says
    // `errored`, so that state has no label), recorded 2026-12-07.
    ("gemini", "working", 1.0),
    ("gemini", "waiting_input", 0.963),
    ("gemini", "waiting_permission", 0.95),
    ("gemini", "idle", 0.975),
];

/// The subcommand that records the corpus.
pub const RECORD: &str = "record-screens";

/// Per agent, the agreement over its recordings.
pub fn measure(dir: &std::path::Path) -> anyhow::Result<BTreeMap<String, Agreement>> {
    let recordings = corpus::load(dir)?;
    anyhow::ensure!(
        !recordings.is_empty(),
        "the corpus {} holds no recording; run `paddock-bench {RECORD}`",
        dir.display()
    );
    let mut per_agent: BTreeMap<String, Agreement> = BTreeMap::new();
    for rec in &recordings {
        per_agent
            .entry(rec.agent.clone())
            .or_default()
            .add(&replay::replay(rec));
    }
    Ok(per_agent)
}

fn pct(a: u64, n: u64) -> String {
    if n == 0 {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * a as f64 / n as f64)
    }
}

/// The bench's measurement: one row per agent and state, and one per agent overall.
pub fn run(report: &mut Report) {
    let dir = corpus::default_dir();
    let per_agent = match measure(&dir) {
        Ok(m) => m,
        Err(e) => return report.fail("screen-only agreement", &e),
    };
    let mut json = serde_json::Map::new();
    for (agent, agreement) in &per_agent {
        for (state, (a, n)) in &agreement.per_state {
            let share = if *n == 0 { 1.0 } else { *a as f64 / *n as f64 };
            let misses: Vec<String> = agreement
                .misses
                .iter()
                .filter(|((want, _), _)| want == state)
                .map(|((_, got), k)| format!("{k} as {got}"))
                .collect();
            report.add(
                Row::new(format!("screen-only {agent}: {state}"), pct(*a, *n))
                    .beside(format!(
                        "{a}/{n} samples{}",
                        if misses.is_empty() {
                            String::new()
                        } else {
                            format!("; missed: {}", misses.join(", "))
                        }
                    ))
                    .target("≥ 95 %", share >= BAR),
            );
        }
        let (a, n) = agreement.overall();
        let (worst, overall) = agreement.worst_and_overall();
        report.add(
            Row::new(format!("screen-only {agent}: overall"), pct(a, n))
                .beside(format!(
                    "{a}/{n} samples, worst state {:.1} %",
                    worst * 100.0
                ))
                .target("≥ 95 %", overall >= BAR),
        );
        json.insert(
            agent.clone(),
            serde_json::json!({
                "overall": [a, n],
                "per_state": agreement.per_state,
            }),
        );
    }
    report.record("screens", serde_json::Value::Object(json));
}

/// `paddock-bench record-screens [--agent claude|codex|gemini] [--scenario NAME] [--out DIR]`.
pub fn record_main(args: &[String]) -> std::process::ExitCode {
    let mut agents: Vec<scenarios::Agent> = Vec::new();
    let mut only = None;
    let mut out = corpus::default_dir();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next();
        match (arg.as_str(), value) {
            ("--agent", Some(v)) => match scenarios::Agent::parse(v) {
                Some(a) => agents.push(a),
                None => {
                    eprintln!("paddock-bench {RECORD}: no agent `{v}`; claude, codex or gemini");
                    return std::process::ExitCode::from(2);
                }
            },
            ("--scenario", Some(v)) => only = Some(v.clone()),
            ("--out", Some(v)) => out = v.into(),
            _ => {
                eprintln!(
                    "usage: paddock-bench {RECORD} [--agent claude|codex|gemini]... [--scenario NAME] [--out DIR]"
                );
                return std::process::ExitCode::from(2);
            }
        }
    }
    if agents.is_empty() {
        agents = scenarios::Agent::ALL.to_vec();
    }
    match record::record_all(&out, &agents, only.as_deref()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paddock-bench {RECORD}: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classifiers' regression check on recorded data: the screen alone agrees with
    /// the agents' own reports at least as often as [`BASELINE`] says, in every state the
    /// corpus labels, and at least [`BAR`] overall for each agent.
    #[test]
    fn the_screens_of_the_corpus_agree_with_the_agents_own_reports() {
        let per_agent = measure(&corpus::default_dir()).expect("the corpus");
        for (agent, state, floor) in BASELINE {
            let a = per_agent
                .get(*agent)
                .unwrap_or_else(|| panic!("the corpus has no {agent} recording"));
            let (agreed, samples) = a.per_state.get(*state).copied().unwrap_or((0, 0));
            assert!(samples > 0, "{agent}: no sample labelled {state}");
            let share = agreed as f64 / samples as f64;
            assert!(
                share + 0.001 >= *floor,
                "{agent} {state}: the screen agreed on {agreed}/{samples} samples, less than the {:.1} % it had; missed {:?}",
                floor * 100.0,
                a.misses
            );
        }
        for (agent, a) in &per_agent {
            for state in a.per_state.keys() {
                assert!(
                    BASELINE.iter().any(|(g, s, _)| g == agent && s == state),
                    "{agent} {state}: labelled in the corpus but held to no floor; add it to BASELINE"
                );
            }
            let (_, overall) = a.worst_and_overall();
            assert!(overall >= BAR, "{agent}: {:.1} % overall", overall * 100.0);
        }
    }
}
