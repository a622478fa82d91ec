//! Permission requests: an agent asking before it runs a tool. Each is decided exactly once:
//! the first answer wins and a late one is told who answered and when. An answer reaches the
//! agent through the channel the request came by: the waiting hook (exact), or keys typed into
//! the agent's prompt (a request seen on the screen of an agent Paddock did not start).

use crate::events::{Bus, Event};
use paddock_proto::agent::{
    AnswerChannel, Decision, PermissionId, PermissionOutcome, PermissionRequest,
};
use paddock_proto::SessionId;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;

/// Requests remembered after they were decided, for `paddock approvals --all` and late answers.
const KEEP_DECIDED: usize = 200;

/// Why an answer was not taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecideError {
    #[error("no permission request `{0}`; `paddock approvals` lists the pending ones")]
    NotFound(PermissionId),
    #[error("permission request {id} was already {verb} by {by} at {at}")]
    AlreadyDecided {
        id: PermissionId,
        verb: &'static str,
        by: String,
        at: String,
    },
    #[error("permission request {id} is no longer waiting for an answer ({reason}, at {at})")]
    Withdrawn {
        id: PermissionId,
        reason: String,
        at: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// A new request's facts.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub session: SessionId,
    pub agent_session: Option<String>,
    pub tool: String,
    pub input: serde_json::Value,
    pub suggestions: Vec<serde_json::Value>,
    pub channel: AnswerChannel,
    /// How long a remote answer is waited for.
    pub timeout: Duration,
}

struct Entry {
    request: PermissionRequest,
    waiter: Option<oneshot::Sender<Decision>>,
    /// When it was decided or withdrawn.
    ended: Option<std::time::Instant>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    entries: VecDeque<Entry>,
}

/// The requests. Cheap to clone.
#[derive(Clone)]
pub struct Permissions {
    inner: Arc<Mutex<Inner>>,
    bus: Bus,
}

pub fn now_text() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// An answer must be to a request that asks questions, over the hook (a prompt on a screen
/// cannot be given free text), answer each of its questions, and stay short.
fn check_answers(
    id: &str,
    request: &PermissionRequest,
    answers: &std::collections::BTreeMap<String, String>,
) -> Result<(), DecideError> {
    if request.questions.is_empty() {
        return Err(DecideError::Invalid(format!(
            "request {id} ({}) asks no questions; allow or deny it",
            request.tool
        )));
    }
    if request.channel != AnswerChannel::Hook {
        return Err(DecideError::Invalid(format!(
            "request {id} is on the agent's screen, not through Paddock's hook; answer it in its terminal"
        )));
    }
    for q in &request.questions {
        match answers.get(&q.question) {
            None => {
                return Err(DecideError::Invalid(format!(
                "the answer to request {id} leaves out the question {:?}; answer every question",
                q.question
            )))
            }
            Some(a) if a.trim().is_empty() || a.len() > 10_000 => {
                return Err(DecideError::Invalid(format!(
                    "the answer to {:?} is empty or longer than 10,000 characters",
                    q.question
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = answers
        .keys()
        .find(|k| !request.questions.iter().any(|q| &q.question == *k))
    {
        return Err(DecideError::Invalid(format!(
            "request {id} does not ask {extra:?}; answer only its own questions"
        )));
    }
    Ok(())
}

impl Permissions {
    pub fn new(bus: Bus) -> Self {
        Self {
            inner: Arc::default(),
            bus,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a request. For the hook channel, the receiver gets the decision.
    pub fn open(&self, new: NewRequest) -> (PermissionRequest, oneshot::Receiver<Decision>) {
        let (tx, rx) = oneshot::channel();
        let created = SystemTime::now();
        let request = {
            let mut inner = self.lock();
            inner.next += 1;
            let questions =
                paddock_agents::conversation::claude::questions_of(&new.tool, &new.input);
            let request = PermissionRequest {
                id: format!("p{}", inner.next),
                session: new.session,
                agent_session: new.agent_session,
                tool: new.tool,
                input: new.input,
                suggestions: new.suggestions,
                created_at: humantime::format_rfc3339_millis(created).to_string(),
                expires_at: humantime::format_rfc3339_seconds(created + new.timeout).to_string(),
                questions,
                channel: new.channel,
                outcome: None,
            };
            inner.entries.push_back(Entry {
                request: request.clone(),
                waiter: Some(tx),
                ended: None,
            });
            Self::trim(&mut inner);
            request
        };
        tracing::info!(
            id = %request.id, session = %request.session, tool = %request.tool,
            "an agent asks for permission"
        );
        self.publish(&request);
        (request, rx)
    }

    fn trim(inner: &mut Inner) {
        while inner.entries.len() > KEEP_DECIDED {
            match inner
                .entries
                .iter()
                .position(|e| e.request.outcome.is_some())
            {
                Some(i) => {
                    inner.entries.remove(i);
                }
                None => break,
            }
        }
    }

    fn publish(&self, request: &PermissionRequest) {
        self.bus.publish(Event::PermissionUpdate {
            request: Box::new(request.clone()),
        });
    }

    /// Decides a request; the first answer wins. Returns the request as decided. For the hook
    /// channel the hook has the decision when this returns; for the terminal channel the
    /// caller types it.
    pub fn decide(
        &self,
        id: &str,
        decision: Decision,
        by: &str,
    ) -> Result<PermissionRequest, DecideError> {
        let request = {
            let mut inner = self.lock();
            let entry = inner
                .entries
                .iter_mut()
                .find(|e| e.request.id == id)
                .ok_or_else(|| DecideError::NotFound(id.to_owned()))?;
            match &entry.request.outcome {
                Some(PermissionOutcome::Decided { decision, by, at }) => {
                    return Err(DecideError::AlreadyDecided {
                        id: id.to_owned(),
                        verb: decision.verb(),
                        by: by.clone(),
                        at: at.clone(),
                    })
                }
                Some(PermissionOutcome::Withdrawn { reason, at }) => {
                    return Err(DecideError::Withdrawn {
                        id: id.to_owned(),
                        reason: reason.clone(),
                        at: at.clone(),
                    })
                }
                None => {}
            }
            if let Decision::AllowAlways { suggestion } = decision {
                if suggestion >= entry.request.suggestions.len()
                    && entry.request.channel == AnswerChannel::Hook
                {
                    return Err(DecideError::Invalid(format!(
                        "request {id} offers {} \"always allow\" rule(s); choose one of 0..{}, or allow it once",
                        entry.request.suggestions.len(),
                        entry.request.suggestions.len()
                    )));
                }
            }
            if let Decision::Answer { answers } = &decision {
                check_answers(id, &entry.request, answers)?;
            }
            if let Decision::Deny { message: Some(m) } = &decision {
                if m.len() > 10_000 {
                    return Err(DecideError::Invalid(
                        "the deny message is longer than 10,000 characters; shorten it".into(),
                    ));
                }
            }
            if let Some(waiter) = entry.waiter.take() {
                if waiter.send(decision.clone()).is_err()
                    && entry.request.channel == AnswerChannel::Hook
                {
                    let at = now_text();
                    entry.request.outcome = Some(PermissionOutcome::Withdrawn {
                        reason: "the agent stopped waiting".into(),
                        at: at.clone(),
                    });
                    return Err(DecideError::Withdrawn {
                        id: id.to_owned(),
                        reason: "the agent stopped waiting".into(),
                        at,
                    });
                }
            }
            entry.request.outcome = Some(PermissionOutcome::Decided {
                decision,
                by: by.to_owned(),
                at: now_text(),
            });
            entry.ended = Some(std::time::Instant::now());
            entry.request.clone()
        };
        tracing::info!(id, by, "permission request decided");
        self.publish(&request);
        Ok(request)
    }

    /// Marks a request as no longer waiting (answered in the terminal, timed out, the agent
    /// went away). Does nothing to a decided one.
    pub fn withdraw(&self, id: &str, reason: &str) -> Option<PermissionRequest> {
        let request = {
            let mut inner = self.lock();
            let entry = inner.entries.iter_mut().find(|e| e.request.id == id)?;
            if entry.request.outcome.is_some() {
                return None;
            }
            entry.waiter = None;
            entry.request.outcome = Some(PermissionOutcome::Withdrawn {
                reason: reason.to_owned(),
                at: now_text(),
            });
            entry.ended = Some(std::time::Instant::now());
            entry.request.clone()
        };
        tracing::info!(id, reason, "permission request withdrawn");
        self.publish(&request);
        Some(request)
    }

    pub fn get(&self, id: &str) -> Option<PermissionRequest> {
        self.lock()
            .entries
            .iter()
            .find(|e| e.request.id == id)
            .map(|e| e.request.clone())
    }

    /// Pending requests (or all remembered, with `all`), oldest first.
    pub fn list(&self, all: bool) -> Vec<PermissionRequest> {
        self.lock()
            .entries
            .iter()
            .filter(|e| all || e.request.outcome.is_none())
            .map(|e| e.request.clone())
            .collect()
    }

    /// Whether a request of `session` was answered within `within` (its prompt may still be
    /// on the screen for a moment after the answer).
    pub fn answered_within(&self, session: &SessionId, within: Duration) -> bool {
        self.lock().entries.iter().any(|e| {
            &e.request.session == session
                && matches!(e.request.outcome, Some(PermissionOutcome::Decided { .. }))
                && e.ended.is_some_and(|t| t.elapsed() < within)
        })
    }

    /// The pending request of a session, if any.
    pub fn pending_for(&self, session: &SessionId) -> Option<PermissionRequest> {
        self.lock()
            .entries
            .iter()
            .find(|e| &e.request.session == session && e.request.outcome.is_none())
            .map(|e| e.request.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(channel: AnswerChannel) -> NewRequest {
        NewRequest {
            session: SessionId::parse("s1").expect("valid"),
            agent_session: None,
            tool: "Bash".into(),
            input: serde_json::json!({"command": "make"}),
            suggestions: vec![serde_json::json!({"type": "addRules"})],
            channel,
            timeout: Duration::from_secs(600),
        }
    }

    fn ask(channel: AnswerChannel) -> NewRequest {
        NewRequest {
            tool: "AskUserQuestion".into(),
            input: serde_json::json!({"questions": [{"question": "Which colour?", "header": "Colour",
                "multiSelect": false, "options": [{"label": "Red"}, {"label": "Blue", "description": "Calm"}]}]}),
            suggestions: vec![],
            ..new(channel)
        }
    }

    #[tokio::test]
    async fn a_question_carries_its_options_and_takes_one_complete_answer_once() {
        let p = Permissions::new(Bus::new());
        let (req, rx) = p.open(ask(AnswerChannel::Hook));
        assert_eq!(req.questions.len(), 1);
        assert_eq!(req.questions[0].question, "Which colour?");
        let labels: Vec<&str> = req.questions[0]
            .options
            .iter()
            .map(|o| o.label.as_str())
            .collect();
        assert_eq!(labels, ["Red", "Blue"]);
        let answer = |pairs: &[(&str, &str)]| Decision::Answer {
            answers: pairs
                .iter()
                .map(|(q, a)| (q.to_string(), a.to_string()))
                .collect(),
        };
        for (bad, why) in [
            (answer(&[]), "leaves out the question"),
            (answer(&[("Which colour?", " ")]), "empty"),
            (
                answer(&[("Which colour?", "Red"), ("Why?", "x")]),
                "does not ask",
            ),
        ] {
            let e = p.decide(&req.id, bad, "phone").expect_err("refused");
            assert!(e.to_string().contains(why), "{e}");
        }
        let good = answer(&[("Which colour?", "Blue")]);
        p.decide(&req.id, good.clone(), "phone").expect("answered");
        assert_eq!(rx.await.expect("the hook gets it"), good);
        let late = p.decide(&req.id, good, "desk").expect_err("once");
        assert!(
            late.to_string().contains("already answered by phone"),
            "{late}"
        );

        // Not a question, or a prompt on a screen: an answer is refused and says why.
        let (bash, _rx) = p.open(new(AnswerChannel::Hook));
        let e = p
            .decide(&bash.id, answer(&[("x", "y")]), "phone")
            .expect_err("no questions");
        assert!(e.to_string().contains("asks no questions"), "{e}");
        let (screen, _rx) = p.open(ask(AnswerChannel::Terminal));
        let e = p
            .decide(&screen.id, answer(&[("Which colour?", "Red")]), "phone")
            .expect_err("terminal");
        assert!(e.to_string().contains("answer it in its terminal"), "{e}");
    }

    #[tokio::test]
    async fn the_first_answer_wins_and_a_late_one_hears_who_answered() {
        let p = Permissions::new(Bus::new());
        let (req, rx) = p.open(new(AnswerChannel::Hook));
        assert_eq!(p.list(false).len(), 1);
        let decided = p
            .decide(&req.id, Decision::Allow, "phone")
            .expect("first answer");
        assert!(matches!(
            decided.outcome,
            Some(PermissionOutcome::Decided { ref by, .. }) if by == "phone"
        ));
        assert_eq!(rx.await.expect("the hook gets it"), Decision::Allow);
        let late = p
            .decide(&req.id, Decision::Deny { message: None }, "cli")
            .expect_err("second answer refused");
        let text = late.to_string();
        assert!(
            text.contains("already allowed by phone at"),
            "late answer says who: {text}"
        );
        assert!(p.list(false).is_empty());
        assert_eq!(p.list(true).len(), 1);
    }

    #[tokio::test]
    async fn a_request_whose_agent_stopped_waiting_cannot_be_answered() {
        let p = Permissions::new(Bus::new());
        let (req, rx) = p.open(new(AnswerChannel::Hook));
        drop(rx);
        let err = p
            .decide(&req.id, Decision::Allow, "cli")
            .expect_err("nobody waits");
        assert!(matches!(err, DecideError::Withdrawn { .. }));
        let (req2, _rx2) = p.open(new(AnswerChannel::Hook));
        p.withdraw(&req2.id, "answered in the terminal");
        let err = p
            .decide(&req2.id, Decision::Allow, "cli")
            .expect_err("withdrawn");
        assert!(
            err.to_string().contains("answered in the terminal"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn unknown_ids_and_missing_suggestions_are_clear_errors() {
        let p = Permissions::new(Bus::new());
        assert!(matches!(
            p.decide("p99", Decision::Allow, "cli"),
            Err(DecideError::NotFound(_))
        ));
        let (req, _rx) = p.open(new(AnswerChannel::Hook));
        let err = p
            .decide(&req.id, Decision::AllowAlways { suggestion: 3 }, "cli")
            .expect_err("no such suggestion");
        assert!(err.to_string().contains("choose one of 0..1"), "{err}");
        assert!(p.pending_for(&req.session).is_some(), "still pending");
    }
}
