//! What the history keeps of one Claude Code transcript while indexing it: its titles,
//! prompts, place, model, tokens and cost, read with the lean line parser.

use super::{MAX_INDEXED_TEXT, SEEN};
use crate::claude::lean::{parse_line, LRecord};
use crate::claude::transcript::{cut, parse_time};
use crate::prices::Prices;
use paddock_proto::insight::ModelUsage;
use paddock_store::{HistorySession, HistoryText};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// What the history keeps of one Claude Code transcript while reading it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaudeHistory {
    session_id: Option<String>,
    cwd: Option<String>,
    custom_title: Option<String>,
    ai_title: Option<String>,
    summary: Option<String>,
    first_prompt: Option<String>,
    last_prompt: Option<String>,
    git_branch: Option<String>,
    model: Option<String>,
    by_model: BTreeMap<String, ModelUsage>,
    seen: VecDeque<(String, [u64; 4])>,
    reported_cost: Option<f64>,
    prompts: u64,
    responses: u64,
    started_ms: Option<u64>,
    ended_ms: Option<u64>,
    pub(super) skipped: u64,
}

fn set(slot: &mut Option<String>, v: &str) {
    if slot.as_deref() != Some(v) {
        *slot = Some(v.to_owned());
    }
}

impl ClaudeHistory {
    /// Reads one line, pushing searchable text to `texts`.
    pub fn apply_line(&mut self, line: &[u8], texts: &mut Vec<HistoryText>) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match parse_line(line) {
            Some(r) => self.apply(&r, texts),
            None => self.skipped += 1,
        }
    }

    fn apply(&mut self, r: &LRecord<'_>, texts: &mut Vec<HistoryText>) {
        let ts = r.timestamp.0.as_deref().and_then(parse_time);
        if let Some(t) = ts {
            self.started_ms = Some(self.started_ms.map_or(t, |s| s.min(t)));
            self.ended_ms = Some(self.ended_ms.map_or(t, |e| e.max(t)));
        }
        if let Some(s) = r.session_id.0.as_deref() {
            set(&mut self.session_id, s);
        }
        if let Some(c) = r.cwd.0.as_deref() {
            set(&mut self.cwd, c);
        }
        if let Some(b) = r.git_branch.0.as_deref().filter(|b| !b.is_empty()) {
            set(&mut self.git_branch, b);
        }
        let time_ms = ts.and_then(|t| i64::try_from(t).ok());
        match r.kind.0.as_deref().unwrap_or("") {
            "user" => {
                let Some(m) = &r.message else { return };
                if r.is_meta || r.is_sidechain || r.is_compact_summary {
                    return;
                }
                let text: Option<String> = match &m.content.text {
                    Some(t) => Some(t.to_string()),
                    None => {
                        if m.content
                            .blocks
                            .iter()
                            .any(|b| b.kind.0.as_deref() == Some("tool_result"))
                        {
                            None
                        } else {
                            let parts: Vec<&str> = m
                                .content
                                .blocks
                                .iter()
                                .filter(|b| b.kind.0.as_deref() == Some("text"))
                                .filter_map(|b| b.text.0.as_deref())
                                .collect();
                            (!parts.is_empty()).then(|| parts.join("\n"))
                        }
                    }
                };
                let Some(text) = text else { return };
                let t = text.trim();
                if t.is_empty()
                    || t.starts_with("<local-command")
                    || t.starts_with("<system-reminder>")
                {
                    return;
                }
                self.prompts += 1;
                if self.first_prompt.is_none() {
                    self.first_prompt = Some(cut(t, 500));
                }
                self.last_prompt = Some(cut(t, 500));
                texts.push(HistoryText {
                    role: "user".into(),
                    time_ms,
                    text: cut(t, MAX_INDEXED_TEXT),
                });
            }
            "assistant" => {
                let Some(m) = &r.message else { return };
                let model = m.model.0.as_deref().filter(|m| *m != "<synthetic>");
                if let (Some(model), false) = (model, r.is_sidechain) {
                    set(&mut self.model, model);
                }
                if m.usage.present {
                    let id = m.id.0.as_deref().unwrap_or("");
                    let req = r.request.0.as_deref().unwrap_or("");
                    let key = if id.is_empty() && req.is_empty() {
                        r.uuid.0.as_deref().unwrap_or("").to_owned()
                    } else {
                        format!("{id}\u{1f}{req}")
                    };
                    let now = [
                        m.usage.input,
                        m.usage.output,
                        m.usage.cache_creation,
                        m.usage.cache_read,
                    ];
                    let delta = match self.seen.iter_mut().rev().find(|(k, _)| *k == key) {
                        Some((_, prev)) => {
                            let d: Vec<u64> = now
                                .iter()
                                .zip(prev.iter())
                                .map(|(n, p)| n.saturating_sub(*p))
                                .collect();
                            for (p, n) in prev.iter_mut().zip(now.iter()) {
                                *p = (*p).max(*n);
                            }
                            [d[0], d[1], d[2], d[3]]
                        }
                        None => {
                            self.responses += 1;
                            self.seen.push_back((key, now));
                            if self.seen.len() > SEEN {
                                self.seen.pop_front();
                            }
                            now
                        }
                    };
                    let model = model.unwrap_or("unknown");
                    let u = self
                        .by_model
                        .entry(model.to_owned())
                        .or_insert_with(|| ModelUsage {
                            model: model.to_owned(),
                            ..ModelUsage::default()
                        });
                    u.input += delta[0];
                    u.output += delta[1];
                    u.cache_creation += delta[2];
                    u.cache_read += delta[3];
                }
                if !r.is_sidechain {
                    for b in &m.content.blocks {
                        if b.kind.0.as_deref() == Some("text") {
                            if let Some(t) =
                                b.text.0.as_deref().map(str::trim).filter(|t| !t.is_empty())
                            {
                                texts.push(HistoryText {
                                    role: "assistant".into(),
                                    time_ms,
                                    text: cut(t, MAX_INDEXED_TEXT),
                                });
                            }
                        }
                    }
                }
            }
            "summary" => {
                if let Some(s) = r.summary.0.as_deref() {
                    self.summary = Some(cut(s, 300));
                }
            }
            "ai-title" => {
                if let Some(s) = r.ai_title.0.as_deref().or(r.title.0.as_deref()) {
                    self.ai_title = Some(cut(s, 300));
                }
            }
            "custom-title" => {
                if let Some(s) = r.custom_title.0.as_deref().or(r.title.0.as_deref()) {
                    self.custom_title = Some(cut(s, 300));
                }
            }
            "last-prompt" if self.last_prompt.is_none() => {
                if let Some(p) = r.last_prompt.0.as_deref() {
                    self.last_prompt = Some(cut(p, 500));
                }
            }
            "cost-state" => {
                if let Some(c) = r.total_cost {
                    self.reported_cost = Some(c);
                }
            }
            _ => {}
        }
    }

    /// The transcript's row in the history.
    pub fn session(&self, path: &str, bytes: u64, prices: &Prices) -> HistorySession {
        let usage: Vec<ModelUsage> = self.by_model.values().cloned().collect();
        let cost = prices.cost(&usage, self.reported_cost);
        let sum = |f: fn(&ModelUsage) -> u64| usage.iter().map(f).sum::<u64>();
        let to_i64 = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
        HistorySession {
            path: path.to_owned(),
            agent: "claude".into(),
            session_id: self.session_id.clone(),
            cwd: self.cwd.clone(),
            title: self
                .custom_title
                .clone()
                .or_else(|| self.ai_title.clone())
                .or_else(|| self.summary.clone())
                .or_else(|| self.first_prompt.as_deref().map(|p| cut(p, 80))),
            first_prompt: self.first_prompt.clone(),
            last_prompt: self.last_prompt.clone(),
            git_branch: self.git_branch.clone(),
            model: self.model.clone(),
            tokens_in: sum(|u| u.input),
            tokens_out: sum(|u| u.output),
            tokens_cache_read: sum(|u| u.cache_read),
            tokens_cache_write: sum(|u| u.cache_creation),
            // The agent's own figure when it wrote one; else the price table's estimate.
            cost_usd: self.reported_cost.unwrap_or(cost.estimated_usd),
            prompts: self.prompts,
            responses: self.responses,
            started_ms: to_i64(self.started_ms),
            ended_ms: to_i64(self.ended_ms),
            bytes,
        }
    }
}
