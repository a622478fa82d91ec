//! Decodes arbitrary bytes as a WebSocket text frame from a browser or phone, as the
//! endpoint's WebSocket handler (`paddock-server`, `ws.rs`) decodes them: a text frame is
//! UTF-8 (the WebSocket layer refuses anything else), then `serde_json::from_str` into
//! [`ClientMessage`], both for the first (`auth`) message and every later one.
//!
//! Properties: nothing panics; a message that decodes re-encodes to JSON that decodes to an
//! equal message, and that re-encoding is stable (encoding it again gives the same text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock_proto::web::ClientMessage;

fuzz_target!(|data: &[u8]| {
    // A text frame that is not UTF-8 never reaches the handler.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(msg) = serde_json::from_str::<ClientMessage>(text) else {
        return;
    };
    let json = serde_json::to_string(&msg)
        .unwrap_or_else(|e| panic!("decoded message {msg:?} does not encode: {e}"));
    let back: ClientMessage = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("re-encoded message does not decode: {e}\n{json}"));
    assert_eq!(back, msg, "JSON round trip changed the message");
    let again = serde_json::to_string(&back).expect("encoded once already");
    assert_eq!(again, json, "JSON encoding is not stable");
});
