//! Records this build's golden frames of the holder protocol: every entry of
//! `tests/golden/messages.json` that its protocol version speaks, encoded by this build, one
//! `<name>.bin` file each in `tests/golden/v<version>/`. Run once per protocol version, by a
//! build of that version (for an older version, in a tree of its commit: see
//! `tests/golden/README.md`); `tests/golden.rs` then holds every later build to those bytes.
//! Usage: cargo run -p paddock-proto --example record_golden -- MESSAGES_JSON OUT_DIR

include!("../tests/golden/spec.rs");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(spec), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: record_golden MESSAGES_JSON OUT_DIR".into());
    };
    let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(&spec)?)?;
    let out = std::path::PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let version = paddock_proto::PROTOCOL_VERSION;
    let goldens = goldens(&spec, version)?;
    for g in &goldens {
        std::fs::write(out.join(format!("{}.bin", g.name)), g.frame.encode())?;
    }
    println!(
        "recorded {} frames of protocol {version} in {}",
        goldens.len(),
        out.display()
    );
    Ok(())
}
