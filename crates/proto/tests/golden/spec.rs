// The golden frames of the holder protocol, from `messages.json`: each entry made into a frame
// by this build's own types and encoder. Included (with `include!`) by `tests/golden.rs` and
// by `examples/record_golden.rs`, which is also copied into an older commit's tree to record
// what that build sends (see `tests/golden/README.md`). Uses only what every protocol version
// has: `Frame`, `Message` and `PROTOCOL_VERSION`.

/// One recorded frame: its file name (without `.bin`) and the frame.
pub struct Golden {
    pub name: String,
    pub frame: paddock_proto::Frame,
}

/// The entries of `spec` (the parsed `messages.json`) that a build of protocol `version`
/// speaks, as that build's frames. A `hello` (request or response) says `version`.
pub fn goldens(spec: &serde_json::Value, version: u32) -> Result<Vec<Golden>, String> {
    use paddock_proto::{Frame, Message};
    let entries = spec.as_array().ok_or("messages.json is not a list")?;
    let mut out = Vec::new();
    for entry in entries {
        let name = entry["name"]
            .as_str()
            .ok_or_else(|| format!("an entry without a name: {entry}"))?
            .to_owned();
        let since = entry["since"]
            .as_u64()
            .ok_or_else(|| format!("{name}: no `since` version"))?;
        if since > u64::from(version) {
            continue;
        }
        let frame = &entry["frame"];
        let text = |v: &serde_json::Value| -> Result<Vec<u8>, String> {
            v.as_str()
                .map(|s| s.as_bytes().to_vec())
                .ok_or_else(|| format!("{name}: data is not a string"))
        };
        let number = |v: &serde_json::Value| -> Result<u64, String> {
            v.as_u64()
                .ok_or_else(|| format!("{name}: {v} is not a number"))
        };
        let frame = if let Some(control) = frame.get("control") {
            let mut control = control.clone();
            if control["payload"]["op"] == "hello" {
                control["payload"]["version"] = version.into();
            }
            let msg: Message =
                serde_json::from_value(control).map_err(|e| format!("{name}: {e}"))?;
            Frame::Control(msg)
        } else if let Some(input) = frame.get("input") {
            Frame::Input(text(input)?)
        } else if let Some(o) = frame.get("output") {
            Frame::Output {
                offset: number(&o["offset"])?,
                data: text(&o["data"])?,
            }
        } else if let Some(s) = frame.get("snapshot") {
            Frame::Snapshot {
                offset: number(&s["offset"])?,
                cols: u16::try_from(number(&s["cols"])?).map_err(|e| format!("{name}: {e}"))?,
                rows: u16::try_from(number(&s["rows"])?).map_err(|e| format!("{name}: {e}"))?,
                data: text(&s["data"])?,
            }
        } else {
            return Err(format!("{name}: an unknown kind of frame: {frame}"));
        };
        out.push(Golden { name, frame });
    }
    Ok(out)
}
