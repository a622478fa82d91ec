//! The owner's rules with a regular expression on the terminal (`output` in
//! `[[notify.rules.custom]]`). The pattern is matched against the session's screen (at most
//! rows × cols characters) each time the supervisor reads it, which the holder's `output`
//! notes limit to once per 200 ms per session: never against the byte stream, so a
//! flooding session costs at most one screen scan per rule per 200 ms. `regex-lite` matches
//! in linear time (no backtracking). A rule notifies when its pattern appears, and again only
//! after it left the screen; the rule's other conditions (state, agent, name, folder) must
//! hold too.

use super::config::CustomRule;
use super::model::NotificationKind;
use super::rules::{custom_conditions, Draft};
use paddock_proto::supervisor::SessionView;
use paddock_proto::SessionId;
use regex_lite::Regex;
use std::collections::HashSet;
use std::sync::Mutex;

/// The compiled rules and which (rule, session) pairs are showing their match now.
#[derive(Default)]
pub struct OutputRules {
    rules: Vec<(CustomRule, Regex)>,
    showing: Mutex<HashSet<(usize, SessionId)>>,
}

impl OutputRules {
    /// Compiles the rules that have an `output` pattern; a pattern that is not a valid
    /// regular expression is left out and said in the returned errors.
    pub fn new(custom: &[CustomRule]) -> (Self, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for rule in custom {
            let Some(pattern) = &rule.output else {
                continue;
            };
            match Regex::new(pattern) {
                Ok(re) => rules.push((rule.clone(), re)),
                Err(e) => errors.push(format!(
                    "the rule `{}` is off: its output pattern `{pattern}` is not a regular expression ({e}); fix it in [[notify.rules.custom]]",
                    rule.name
                )),
            }
        }
        (
            Self {
                rules,
                showing: Mutex::default(),
            },
            errors,
        )
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The session's screen now: a notification for each rule whose pattern just appeared.
    pub fn check(&self, view: &SessionView, rows: &[String]) -> Vec<Draft> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let screen = rows.join("\n");
        let mut showing = self.showing.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        for (i, (rule, re)) in self.rules.iter().enumerate() {
            let key = (i, view.id.clone());
            let found = custom_conditions(rule, view)
                .then(|| re.find(&screen))
                .flatten();
            let Some(m) = found else {
                showing.remove(&key);
                continue;
            };
            if !showing.insert(key) {
                continue;
            }
            // The whole line the match is on.
            let before = screen[..m.start()].rsplit('\n').next().unwrap_or_default();
            let after = screen[m.start()..].split('\n').next().unwrap_or_default();
            let line = format!("{before}{after}");
            out.push(Draft {
                kind: NotificationKind::Custom,
                rule: format!("custom:{}", rule.name),
                title: format!("{}: {}", view.name, rule.name),
                body: line.trim().chars().take(200).collect(),
                request: None,
            });
        }
        out
    }

    /// A session is gone.
    pub fn forget(&self, id: &SessionId) {
        self.showing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(_, s)| s != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str) -> SessionView {
        let mut v =
            crate::notify::rules::tests::view(paddock_proto::agent::AgentState::Running, None);
        v.name = name.to_owned();
        v
    }

    fn rule(name: &str, pattern: &str) -> CustomRule {
        CustomRule {
            name: name.into(),
            output: Some(pattern.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_pattern_on_the_screen_notifies_once_until_it_leaves_it() {
        let (rules, errors) = OutputRules::new(&[rule("tests failed", r"FAILED \d+")]);
        assert!(errors.is_empty());
        let v = view("build");
        let screen = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
        assert!(rules.check(&v, &screen("running\n")).is_empty());
        let d = rules.check(&v, &screen("ok 1\ntest result: FAILED 3 of 10\n"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].title, "build: tests failed");
        assert_eq!(d[0].body, "test result: FAILED 3 of 10");
        assert_eq!(d[0].rule, "custom:tests failed");
        assert!(
            rules
                .check(&v, &screen("test result: FAILED 3 of 10\nmore\n"))
                .is_empty(),
            "still showing: told once"
        );
        assert!(rules.check(&v, &screen("clean\n")).is_empty());
        assert_eq!(
            rules.check(&v, &screen("FAILED 1\n")).len(),
            1,
            "back again"
        );
    }

    #[test]
    fn the_rules_other_conditions_must_hold_and_a_bad_pattern_is_said() {
        let mut only_api = rule("deploy", "deployed");
        only_api.session = Some("api-*".into());
        let (rules, errors) = OutputRules::new(&[only_api, rule("broken", "(unclosed")]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("`broken` is off"), "{}", errors[0]);
        let screen = vec!["deployed".to_owned()];
        assert!(rules.check(&view("web"), &screen).is_empty());
        assert_eq!(rules.check(&view("api-1"), &screen).len(), 1);
    }
}
