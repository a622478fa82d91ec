//! Golden recordings of the holder protocol: the exact bytes that builds of each protocol
//! version this build claims to speak (`MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION`) send, in
//! both directions, recorded by a build of that version (`tests/golden/v<N>/*.bin`, listed in
//! `tests/golden/messages.json`; how they were made: `tests/golden/README.md`).
//!
//! Every recorded frame must decode with this build to the message it stands for and encode
//! back to the same bytes; and this build must still encode its own version's frames exactly
//! as recorded. A change to the wire format fails here until it comes with a new protocol
//! version (and its recording), so holders started by an older build are never spoken to in
//! a dialect they do not know.

use paddock_proto::{
    Frame, FrameDecoder, Message, Notification, Request, Response, MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

include!("golden/spec.rs");

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn spec() -> serde_json::Value {
    let path = golden_dir().join("messages.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn recorded(version: u32, name: &str) -> Vec<u8> {
    let path = golden_dir().join(format!("v{version}/{name}.bin"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; every message of protocol {version} must be recorded",
            path.display()
        )
    })
}

fn decode_one(bytes: &[u8], what: &str) -> Frame {
    let mut dec = FrameDecoder::default();
    dec.extend(bytes);
    let frame = dec
        .next_frame()
        .unwrap_or_else(|e| panic!("{what}: this build cannot decode it: {e}"))
        .unwrap_or_else(|| panic!("{what}: an incomplete frame"));
    assert_eq!(dec.buffered(), 0, "{what}: bytes after the frame");
    frame
}

#[test]
fn every_recorded_frame_of_every_supported_version_decodes_and_encodes_to_the_same_bytes() {
    let spec = spec();
    for version in MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION {
        let goldens = goldens(&spec, version).expect("messages.json");
        assert!(
            !goldens.is_empty(),
            "nothing recorded for protocol {version}"
        );
        for g in goldens {
            let what = format!("v{version}/{}.bin", g.name);
            let bytes = recorded(version, &g.name);
            let frame = decode_one(&bytes, &what);
            // Nothing decodes to `Unknown`: this build knows every op an older build sends.
            if let Frame::Control(m) = &frame {
                assert!(
                    holder_op(m).is_some(),
                    "{what}: this build does not know it"
                );
            }
            assert_eq!(
                frame.encode(),
                bytes,
                "{what}: this build encodes it differently: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

#[test]
fn this_build_sends_its_own_version_exactly_as_recorded() {
    let dir = golden_dir().join(format!("v{PROTOCOL_VERSION}"));
    let goldens = goldens(&spec(), PROTOCOL_VERSION).expect("messages.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        // Only a new version is recorded: a recorded one is what holders out there speak.
        assert!(
            !dir.exists(),
            "protocol {PROTOCOL_VERSION} is recorded already ({}); a change to its bytes needs protocol {} (PROTOCOL_VERSION)",
            dir.display(),
            PROTOCOL_VERSION + 1
        );
        std::fs::create_dir_all(&dir).expect("create the version's directory");
        for g in &goldens {
            std::fs::write(dir.join(format!("{}.bin", g.name)), g.frame.encode())
                .expect("write a golden frame");
        }
    }
    for g in &goldens {
        let bytes = recorded(PROTOCOL_VERSION, &g.name);
        assert!(
            g.frame.encode() == bytes,
            "v{PROTOCOL_VERSION}/{}.bin: this build sends\n  {}\nbut protocol {PROTOCOL_VERSION} was recorded as\n  {}\n\
             Holders of older builds keep running after an upgrade: a change to the wire needs \
             a new protocol version (PROTOCOL_VERSION = {}), its recording (UPDATE_GOLDEN=1 cargo \
             test -p paddock-proto --test golden) and a line in README's Upgrades.",
            g.name,
            String::from_utf8_lossy(&g.frame.encode()),
            String::from_utf8_lossy(&bytes),
            PROTOCOL_VERSION + 1
        );
    }
}

#[test]
fn every_version_directory_holds_exactly_its_listed_frames() {
    let spec = spec();
    for version in MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION {
        let want: BTreeSet<String> = goldens(&spec, version)
            .expect("messages.json")
            .into_iter()
            .map(|g| format!("{}.bin", g.name))
            .collect();
        let dir = golden_dir().join(format!("v{version}"));
        let have: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(have, want, "{}", dir.display());
    }
}

/// The op of a message of the holder protocol, `None` for the supervisor's own requests and
/// answers. No wildcard: a new variant does not compile until it is placed here, and a new
/// holder op fails `every_holder_op_is_recorded` until it is recorded.
fn holder_op(msg: &Message) -> Option<&'static str> {
    match msg {
        Message::Request { payload, .. } => match payload {
            Request::Hello(_) => Some("request hello"),
            Request::Info => Some("request info"),
            Request::Resize { .. } => Some("request resize"),
            Request::Signal { .. } => Some("request signal"),
            Request::Restart => Some("request restart"),
            Request::Remove { .. } => Some("request remove"),
            Request::Screen => Some("request screen"),
            Request::ListSessions
            | Request::Adopt { .. }
            | Request::Status
            | Request::CreatePairing { .. }
            | Request::ListDevices
            | Request::RenameDevice { .. }
            | Request::RevokeDevice { .. }
            | Request::Hook(_)
            | Request::Permissions { .. }
            | Request::Notifications { .. }
            | Request::NotifyTest { .. }
            | Request::NotifyPause { .. }
            | Request::Decide { .. }
            | Request::Insight { .. }
            | Request::History { .. }
            | Request::Control { .. }
            | Request::ClaudeBg { .. }
            | Request::StartBackground { .. }
            | Request::Unknown => None,
        },
        Message::Response { payload, .. } => match payload {
            Response::Hello { .. } => Some("response hello"),
            Response::Info { .. } => Some("response info"),
            Response::Screen { .. } => Some("response screen"),
            Response::Ok => Some("response ok"),
            Response::Sessions { .. }
            | Response::Status { .. }
            | Response::Pairing { .. }
            | Response::Devices { .. }
            | Response::Device { .. }
            | Response::HookReply { .. }
            | Response::Permissions { .. }
            | Response::Notifications { .. }
            | Response::NotifyTested { .. }
            | Response::Insight { .. }
            | Response::History { .. }
            | Response::Permission { .. }
            | Response::Message { .. } => None,
        },
        Message::Notification { payload } => match payload {
            Notification::Lagged { .. } => Some("notification lagged"),
            Notification::Resized { .. } => Some("notification resized"),
            Notification::Exited { .. } => Some("notification exited"),
            Notification::Restarted { .. } => Some("notification restarted"),
            Notification::Output { .. } => Some("notification output"),
            Notification::Typed { .. } => Some("notification typed"),
            Notification::Closing { .. } => Some("notification closing"),
            Notification::Demoted { .. } => Some("notification demoted"),
            Notification::ProgramStatus { .. } => Some("notification program_status"),
            Notification::Unknown => None,
        },
        Message::Error { .. } => Some("error"),
    }
}

#[test]
fn every_holder_op_is_recorded() {
    let mut ops: BTreeSet<&str> = goldens(&spec(), PROTOCOL_VERSION)
        .expect("messages.json")
        .iter()
        .filter_map(|g| match &g.frame {
            Frame::Control(m) => holder_op(m),
            Frame::Output { .. } => Some("frame output"),
            Frame::Input(_) => Some("frame input"),
            Frame::Snapshot { .. } => Some("frame snapshot"),
        })
        .collect();
    let all = [
        "request hello",
        "request info",
        "request resize",
        "request signal",
        "request restart",
        "request remove",
        "request screen",
        "response hello",
        "response info",
        "response screen",
        "response ok",
        "notification lagged",
        "notification resized",
        "notification exited",
        "notification restarted",
        "notification output",
        "notification typed",
        "notification closing",
        "notification demoted",
        "notification program_status",
        "error",
        "frame output",
        "frame input",
        "frame snapshot",
    ];
    for op in all {
        assert!(
            ops.remove(op),
            "the holder protocol's {op} has no golden recording"
        );
    }
    assert!(ops.is_empty(), "ops missing from the list above: {ops:?}");
}
