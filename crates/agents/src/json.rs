//! Reading agents' JSON (transcripts, rollouts, payloads) field by field, without panicking
//! on whatever shape a line has.

use serde_json::Value;

/// The string at `key` of an object; `None` when `v` is no object, the key is missing or its
/// value is not a string.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}
