//! The `PADDOCK_*` environment layer: which variables are settings, their values as TOML,
//! and where a nested key (`PADDOCK_LOG__KEEP_DAYS`) lands in the table.

/// Environment variables that start with `PADDOCK_` but are not settings.
pub(super) const NOT_SETTINGS: &[&str] = &[
    "PADDOCK_LOG",
    "PADDOCK_RUNTIME_DIR",
    "PADDOCK_CONFIG_DIR",
    "PADDOCK_DATA_DIR",
    "PADDOCK_SESSION_ID",
    "PADDOCK_SESSION_NAME",
];

/// `42` → integer, `true` → bool, anything else → string.
pub(super) fn parse_env_value(value: &str) -> toml::Value {
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    toml::Value::String(value.to_owned())
}

pub(super) fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    t.insert(last.clone(), value);
}
