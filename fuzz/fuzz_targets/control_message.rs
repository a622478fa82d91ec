//! Decodes arbitrary bytes as a JSON control `Message`, as a control frame's body is decoded.
//!
//! Properties: nothing panics; a message that decodes re-encodes to JSON that decodes to an
//! equal message, and that re-encoding is stable (encoding it again gives the same bytes);
//! the same message inside a control frame decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock_proto::{Frame, Message};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = serde_json::from_slice::<Message>(data) else {
        return;
    };
    let json = serde_json::to_vec(&msg)
        .unwrap_or_else(|e| panic!("decoded message {msg:?} does not encode: {e}"));
    let back: Message = serde_json::from_slice(&json).unwrap_or_else(|e| {
        panic!(
            "re-encoded message does not decode: {e}\n{}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(back, msg, "JSON round trip changed the message");
    let again = serde_json::to_vec(&back).expect("encoded once already");
    assert_eq!(again, json, "JSON encoding is not stable");

    // The same message as the body of a control frame.
    let mut payload = vec![0u8];
    payload.extend_from_slice(data);
    match Frame::decode_payload(&payload) {
        Ok(Frame::Control(m)) => assert_eq!(m, msg, "control frame decoded differently"),
        other => panic!("control frame with a valid message gave {other:?}"),
    }
});
