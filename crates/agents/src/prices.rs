//! Model prices, from a data file (`data/prices.toml`, embedded) and an optional override
//! file of the same shape in Paddock's config directory. Prices never live in code.

use crate::AgentError;
use paddock_proto::insight::{Cost, ModelUsage};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The embedded default price table.
pub const DEFAULT_PRICES: &str = include_str!("../data/prices.toml");

/// One model's price, US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
    /// Cache creation; `input` when missing.
    pub cache_write: Option<f64>,
    /// Cache hits; `input` when missing.
    pub cache_read: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    #[serde(default)]
    models: BTreeMap<String, ModelPrice>,
}

/// A price table: model id prefixes to prices.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    models: BTreeMap<String, ModelPrice>,
}

impl Default for Prices {
    /// The embedded table (tested to parse).
    fn default() -> Self {
        Self::parse(DEFAULT_PRICES, Path::new("(embedded prices.toml)")).unwrap_or(Prices {
            models: BTreeMap::new(),
        })
    }
}

impl Prices {
    /// Parses a price file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Prices, AgentError> {
        let file: PriceFile = toml::from_str(text).map_err(|e| AgentError::BadFile {
            path: origin.to_owned(),
            what: "price table",
            reason: e.to_string(),
        })?;
        for (model, p) in &file.models {
            let all = [Some(p.input), Some(p.output), p.cache_write, p.cache_read];
            if all.iter().flatten().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(AgentError::BadFile {
                    path: origin.to_owned(),
                    what: "price table",
                    reason: format!("the prices of {model} must be positive numbers"),
                });
            }
        }
        Ok(Prices {
            models: file.models,
        })
    }

    /// The embedded table, with the entries of `override_file` added or replacing (same
    /// key) when that file exists. A missing file is not an error; a broken one is.
    pub fn load(override_file: Option<&Path>) -> Result<Prices, AgentError> {
        let mut prices = Prices::default();
        if let Some(path) = override_file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    let extra = Prices::parse(&text, path)?;
                    prices.models.extend(extra.models);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(AgentError::Io {
                        path: path.to_owned(),
                        source,
                    })
                }
            }
        }
        Ok(prices)
    }

    /// The price of `model`: the entry with the longest key that is a prefix of it.
    pub fn price(&self, model: &str) -> Option<&ModelPrice> {
        self.models
            .iter()
            .filter(|(k, _)| model.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| p)
    }

    /// The cost of these tokens; models the table does not know are listed, not guessed.
    pub fn cost(&self, usage: &[ModelUsage], reported_usd: Option<f64>) -> Cost {
        let mut cost = Cost {
            reported_usd,
            ..Cost::default()
        };
        for u in usage {
            match self.price(&u.model) {
                Some(p) => {
                    let per = |tokens: u64, price: f64| tokens as f64 * price / 1_000_000.0;
                    cost.estimated_usd += per(u.input, p.input)
                        + per(u.output, p.output)
                        + per(u.cache_creation, p.cache_write.unwrap_or(p.input))
                        + per(u.cache_read, p.cache_read.unwrap_or(p.input));
                }
                None if u.input + u.output + u.cache_creation + u.cache_read == 0 => {}
                None => cost.unpriced_models.push(u.model.clone()),
            }
        }
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses_and_prices_dated_model_ids() {
        let prices = Prices::parse(DEFAULT_PRICES, Path::new("prices.toml")).expect("parse");
        let p = prices.price("claude-sonnet-4-5-20250929").expect("sonnet");
        assert_eq!((p.input, p.output), (3.0, 15.0));
        // The longest prefix wins: gpt-5-mini is not priced as gpt-5.
        assert_eq!(prices.price("gpt-5-mini").map(|p| p.input), Some(0.25));
        assert_eq!(prices.price("gpt-5-codex").map(|p| p.input), Some(1.25));
        assert!(prices.price("llama-3").is_none());
    }

    #[test]
    fn an_override_file_adds_models_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("prices.toml");
        std::fs::write(
            &file,
            "[models.\"claude-opus-5-5\"]\ninput = 4.0\noutput = 20.0\n",
        )
        .expect("write");
        let prices = Prices::load(Some(&file)).expect("load");
        let usage = [ModelUsage {
            model: "claude-opus-5-5".into(),
            input: 36,
            output: 21,
            ..ModelUsage::default()
        }];
        let cost = prices.cost(&usage, None);
        assert!((cost.estimated_usd - 0.000564).abs() < 1e-12, "{cost:?}");
        assert!(cost.unpriced_models.is_empty());
        // Without the override the model is listed as unpriced, not guessed.
        let cost = Prices::default().cost(&usage, Some(0.000564));
        assert_eq!(cost.estimated_usd, 0.0);
        assert_eq!(cost.unpriced_models, vec!["claude-opus-5-5"]);
        std::fs::write(&file, "[models.x]\ninput = -1.0\noutput = 1.0\n").expect("write");
        let e = Prices::load(Some(&file)).expect_err("negative");
        assert!(e.to_string().contains("prices.toml"), "{e}");
        assert!(Prices::load(Some(&dir.path().join("missing.toml"))).is_ok());
    }
}
