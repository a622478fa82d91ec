//! Tests of the layering (defaults, file, environment), its errors, and the example file.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_printed_example_is_exactly_the_defaults() {
    let c = Config::layered(Path::new("x"), Some(DEFAULT_CONFIG_TOML), env(&[])).expect("valid");
    assert_eq!(c, Config::default());
}

#[test]
fn file_then_environment_override_defaults() {
    let file = "sample_interval = \"3s\"\n[log]\nkeep_days = 9\n";
    let c = Config::layered(
        Path::new("x"),
        Some(file),
        env(&[
            ("PADDOCK_LOG__KEEP_DAYS", "4"),
            ("PADDOCK_RETENTION_DAYS", "7"),
            ("PADDOCK_LOG", "debug"),
            ("HOME", "/h"),
        ]),
    )
    .expect("valid");
    assert_eq!(c.sample_interval, Duration::from_secs(3));
    assert_eq!(c.log.keep_days, 4, "environment beats the file");
    assert_eq!(c.retention_days, 7);
    assert_eq!(
        c.log.level, "info",
        "PADDOCK_LOG is the log filter, not a setting"
    );
}

#[test]
fn a_refresh_grace_below_its_floor_is_refused_with_the_floor_named() {
    let err = Config::layered(
        Path::new("/c.toml"),
        Some("[server]\nrefresh_grace = \"500ms\"\n"),
        env(&[]),
    )
    .expect_err("below the floor");
    assert!(err.to_string().contains("floor of 1s"), "{err}");
    let c = Config::layered(
        Path::new("x"),
        None,
        env(&[("PADDOCK_SERVER__REFRESH_GRACE", "2s")]),
    )
    .expect("valid");
    assert_eq!(c.server.refresh_grace, Duration::from_secs(2));
}

#[test]
fn mistakes_are_named() {
    let err = Config::layered(
        Path::new("/c.toml"),
        Some("sample_intervall = \"1s\""),
        env(&[]),
    )
    .expect_err("typo");
    assert!(
        err.to_string().contains("/c.toml") && err.to_string().contains("sample_intervall"),
        "{err}"
    );
    let err = Config::layered(
        Path::new("x"),
        None,
        env(&[("PADDOCK_SAMPLE_INTERVAL", "soon")]),
    )
    .expect_err("bad duration");
    assert!(err.to_string().contains("PADDOCK_SAMPLE_INTERVAL"), "{err}");
}
