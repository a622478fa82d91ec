//! What a transcript says so far, as a [`SessionInsight`]: tokens and cost, the todo list's
//! progress, the latest reasoning's points.

use super::*;

impl ClaudeTranscript {
    /// What the transcript says so far, priced with `prices`.
    pub fn insight(&self, prices: &Prices) -> SessionInsight {
        let by_model: Vec<ModelUsage> = self.by_model.values().cloned().collect();
        let mut tokens = TokenUsage {
            context: self.context,
            ..TokenUsage::default()
        };
        for m in &by_model {
            tokens.input += m.input;
            tokens.output += m.output;
            tokens.cache_creation += m.cache_creation;
            tokens.cache_read += m.cache_read;
        }
        tokens.by_model = by_model;
        let cost = prices.cost(&tokens.by_model, self.reported_cost);
        let progress = self.progress();
        let current_task = self
            .rec
            .current_task
            .clone()
            .or_else(|| self.last_prompt_record.clone());
        let mut next_actions: Vec<String> = self
            .todos
            .iter()
            .filter(|t| t.status == TodoStatus::InProgress)
            .map(|t| t.active_form.clone().unwrap_or_else(|| t.content.clone()))
            .collect();
        next_actions.extend(
            self.todos
                .iter()
                .filter(|t| t.status == TodoStatus::Pending)
                .map(|t| t.content.clone()),
        );
        let decision_factors = self
            .rec
            .reasoning
            .as_ref()
            .map(|(r, _)| decision_factors(r))
            .unwrap_or_default();
        let context_summary = self.compact_summary.clone().or_else(|| {
            let mut parts = Vec::new();
            if let Some(t) = &current_task {
                parts.push(format!("Task: {}.", one_line(t, 200)));
            }
            let changed = self.rec.files.len() as u64 + self.files_over_limit;
            parts.push(format!(
                "{} prompt{}, {} tool call{}, {} file{} changed.",
                self.rec.prompts,
                plural(self.rec.prompts),
                self.rec.total_actions,
                plural(self.rec.total_actions),
                changed,
                plural(changed)
            ));
            if let Some(p) = &progress {
                parts.push(format!("Todo list: {} of {} done.", p.done, p.total));
            }
            if self.context > 0 {
                parts.push(format!("Context: {} tokens.", self.context));
            }
            (self.rec.prompts > 0 || self.rec.total_actions > 0).then(|| parts.join(" "))
        });
        let base = self.rec.insight();
        SessionInsight {
            title: self
                .custom_title
                .clone()
                .or_else(|| self.ai_title.clone())
                .or_else(|| self.summary.clone()),
            current_task,
            progress,
            thinking: ThinkingView {
                next_actions,
                context_summary,
                decision_factors,
                ..base.thinking
            },
            tokens,
            cost,
            responses: self.responses,
            ..base
        }
    }

    fn progress(&self) -> Option<Progress> {
        if self.todos.is_empty() {
            return None;
        }
        let total = u32::try_from(self.todos.len()).unwrap_or(u32::MAX);
        let done = u32::try_from(
            self.todos
                .iter()
                .filter(|t| t.status == TodoStatus::Completed)
                .count(),
        )
        .unwrap_or(u32::MAX);
        let estimate = match (self.todos_started_ms, self.rec.last_ms) {
            (Some(start), Some(now)) if done > 0 && done < total && now > start => {
                let elapsed = now - start;
                let each = elapsed / u64::from(done);
                let remaining = each * u64::from(total - done);
                Some(CompletionEstimate {
                    is_estimate: true,
                    estimated_completion_ms: now + remaining,
                    remaining_ms: remaining,
                    basis: format!(
                        "estimate: {done} of {total} done in {} (about {} each); {} left at that pace",
                        duration_text(elapsed),
                        duration_text(each),
                        duration_text(remaining)
                    ),
                })
            }
            _ => None,
        };
        Some(Progress {
            done,
            total,
            items: self.todos.clone(),
            estimate,
        })
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "45 s", "6 min", "2 h 10 min".
pub fn duration_text(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

/// The points a piece of reasoning lists: its bullet and numbered lines (at most 8).
fn decision_factors(reasoning: &str) -> Vec<String> {
    reasoning
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            let rest = l
                .strip_prefix("- ")
                .or_else(|| l.strip_prefix("* "))
                .or_else(|| l.strip_prefix("• "))
                .or_else(|| {
                    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
                    (digits > 0 && digits < 3)
                        .then(|| {
                            l[digits..]
                                .strip_prefix(". ")
                                .or_else(|| l[digits..].strip_prefix(") "))
                        })
                        .flatten()
                })?;
            let rest = rest.trim();
            (!rest.is_empty()).then(|| one_line(rest, 200))
        })
        .take(8)
        .collect()
}
