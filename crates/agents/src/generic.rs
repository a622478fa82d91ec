//! Any terminal program: its state from its screen and the time since its last output.
//!
//! A program is **working** while it printed something within `busy_window`, **waiting**
//! when the last non-empty row of its screen matches one of the confirm patterns (a yes/no
//! question: a prompt that needs the user) or the input patterns (a shell or REPL prompt),
//! else **idle**. Patterns are regular expressions (the `regex-lite` syntax) matched against
//! the last non-empty row with trailing blanks removed; users add their own in the
//! configuration.

use crate::screen::{trimmed_rows, PromptKind, ScreenPrompt};
use crate::{Adapter, AgentError, AgentKind, ScreenState};
use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the generic classifier looks for. [`Default`] suits shells, REPLs and most CLIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenericConfig {
    /// A last row matching one of these asks the user to confirm something.
    pub confirm_patterns: Vec<String>,
    /// A last row matching one of these is a prompt waiting for input.
    pub input_patterns: Vec<String>,
    /// Output within this long means working.
    #[serde(with = "humantime_ms")]
    pub busy_window: Duration,
}

impl Default for GenericConfig {
    fn default() -> Self {
        Self {
            confirm_patterns: vec![
                r"(?i)[\[(]\s*y(es)?\s*/\s*n(o)?\s*[\])]\s*[:?]?$".into(),
                r"(?i)\b(continue|proceed|allow|approve|overwrite|confirm)\b.*\?\s*$".into(),
                r"(?i)press enter to continue".into(),
            ],
            input_patterns: vec![
                // Shells and REPLs: the row ends with a prompt character.
                r"[$#%>❯»›]\s*$".into(),
                r"^(>>>|\.\.\.|In \[\d+\]:)\s*".into(),
            ],
            busy_window: Duration::from_secs(3),
        }
    }
}

mod humantime_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis().try_into().unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// The generic adapter: configured patterns, compiled.
#[derive(Debug, Clone)]
pub struct Generic {
    kind: AgentKind,
    confirm: Vec<Regex>,
    input: Vec<Regex>,
    busy_window: Duration,
}

impl Generic {
    /// The adapter with the default patterns, reporting `kind`.
    pub fn new(kind: AgentKind) -> Generic {
        match Self::with_config(kind.clone(), &GenericConfig::default()) {
            Ok(g) => g,
            // The defaults are tested to compile; never reached, but no panic either.
            Err(_) => Generic {
                kind,
                confirm: Vec::new(),
                input: Vec::new(),
                busy_window: GenericConfig::default().busy_window,
            },
        }
    }

    /// The adapter with `config`'s patterns; an invalid pattern is an error naming it.
    pub fn with_config(kind: AgentKind, config: &GenericConfig) -> Result<Generic, AgentError> {
        let compile = |pats: &[String]| -> Result<Vec<Regex>, AgentError> {
            pats.iter()
                .map(|p| {
                    Regex::new(p).map_err(|e| AgentError::BadPattern {
                        pattern: p.clone(),
                        reason: e.to_string(),
                    })
                })
                .collect()
        };
        Ok(Generic {
            kind,
            confirm: compile(&config.confirm_patterns)?,
            input: compile(&config.input_patterns)?,
            busy_window: config.busy_window,
        })
    }

    /// What the screen shows, given how long the program has been quiet (`None`: unknown,
    /// taken as quiet).
    pub fn classify(&self, rows: &[&str], quiet_for: Option<Duration>) -> ScreenState {
        if quiet_for.is_some_and(|q| q < self.busy_window) {
            return ScreenState::Working { activity: None };
        }
        let rows = trimmed_rows(rows);
        let Some(last) = rows.iter().rev().find(|r| !r.trim().is_empty()) else {
            return ScreenState::Idle;
        };
        if self.confirm.iter().any(|re| re.is_match(last)) {
            return ScreenState::Prompt(ScreenPrompt {
                kind: PromptKind::Question,
                tool: None,
                title: None,
                detail: None,
                description: None,
                question: last.trim().to_owned(),
                options: Vec::new(),
                selected: None,
            });
        }
        if self.input.iter().any(|re| re.is_match(last)) {
            return ScreenState::WaitingInput;
        }
        ScreenState::Idle
    }
}

impl Adapter for Generic {
    fn kind(&self) -> AgentKind {
        self.kind.clone()
    }

    fn classify_screen(&self, rows: &[&str], quiet_for: Option<Duration>) -> ScreenState {
        self.classify(rows, quiet_for)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Generic {
        Generic::new(AgentKind::Other("tool".into()))
    }

    #[test]
    fn recent_output_means_working() {
        let s = g().classify(&["$ make"], Some(Duration::from_millis(500)));
        assert_eq!(s, ScreenState::Working { activity: None });
    }

    #[test]
    fn quiet_programs_are_waiting_at_a_prompt_asking_or_idle() {
        let quiet = Some(Duration::from_secs(10));
        assert_eq!(
            g().classify(&["build ok", "user@box:~/app$ ", ""], quiet),
            ScreenState::WaitingInput
        );
        assert_eq!(g().classify(&[">>> "], quiet), ScreenState::WaitingInput);
        let s = g().classify(&["Overwrite config.toml? [y/N]"], quiet);
        assert!(
            matches!(&s, ScreenState::Prompt(p) if p.question == "Overwrite config.toml? [y/N]"),
            "{s:?}"
        );
        assert_eq!(g().classify(&["compiling 3/10"], quiet), ScreenState::Idle);
        assert_eq!(g().classify(&[], None), ScreenState::Idle);
    }

    #[test]
    fn configured_patterns_replace_the_defaults_and_bad_ones_are_named() {
        let cfg = GenericConfig {
            confirm_patterns: vec![],
            input_patterns: vec![r"^opencode>".into()],
            busy_window: Duration::from_secs(1),
        };
        let g = Generic::with_config(AgentKind::Other("opencode".into()), &cfg).expect("compile");
        let quiet = Some(Duration::from_secs(2));
        assert_eq!(
            g.classify(&["opencode> "], quiet),
            ScreenState::WaitingInput
        );
        assert_eq!(g.classify(&["$ "], quiet), ScreenState::Idle);
        let bad = GenericConfig {
            input_patterns: vec!["(unclosed".into()],
            ..GenericConfig::default()
        };
        let e = Generic::with_config(AgentKind::Other("x".into()), &bad).expect_err("bad");
        assert!(e.to_string().contains("(unclosed"), "{e}");
    }

    #[test]
    fn the_default_patterns_compile() {
        Generic::with_config(AgentKind::Other("x".into()), &GenericConfig::default())
            .expect("defaults compile");
    }
}
