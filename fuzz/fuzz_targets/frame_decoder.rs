//! Feeds arbitrary bytes to a `FrameDecoder` in chunks and checks what comes out.
//!
//! Input layout:
//!
//! | byte     | meaning                                                                  |
//! |----------|--------------------------------------------------------------------------|
//! | 0        | config, see below                                                        |
//! | 1..=n    | chunk sizes, used in turn (0 = an empty `extend`)                        |
//! | the rest | the byte stream                                                          |
//!
//! Config byte: bits 0-1 pick the decoder's limit (0, 1: `MAX_FRAME_LEN`; 2: 64; 3: bits 3-4
//! as a number, 0..=3); bit 2 repeats the stream until it is over [`REPEAT_TO`] bytes, so that
//! the decoder's compaction of its buffer (after 64 KiB consumed) is reached although
//! libFuzzer's inputs stay small; bits 5-7 + 1 is n, the number of chunk sizes (1..=8).
//!
//! Properties:
//!
//! * nothing panics, whatever the bytes and however they are split;
//! * the chunked decoder yields exactly what a one-pass reference parse of the whole stream
//!   yields (same frames, same error at the same place, same bytes left over);
//! * every frame re-encodes to a frame that decodes to an equal frame, both with
//!   `decode_payload` and through a fresh decoder, and its length prefix is right;
//! * binary frames re-encode to exactly the bytes they came from; control frames re-encode
//!   to a canonical form that is stable (encoding the decoded re-encoding gives the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock_proto::{Frame, FrameDecoder, MAX_FRAME_LEN};

const HEADER_LEN: usize = 4;
/// A repeated stream is made at least this long: past the decoder's 64 KiB compaction point.
const REPEAT_TO: usize = 80 * 1024;

/// What the reference parse found, in order.
#[derive(Debug)]
enum Event<'a> {
    /// A frame and the raw bytes (header included) it was decoded from.
    Frame(Frame, &'a [u8]),
    /// The error the decoder must report, as text (`FrameError` has no `PartialEq`).
    Error(String),
}

/// Parses the whole stream in one pass, without `FrameDecoder`. Returns the events and how
/// many bytes are left over (an incomplete frame) when no error stopped it.
fn reference(stream: &[u8], max: usize) -> (Vec<Event<'_>>, Option<usize>) {
    let mut events = Vec::new();
    let mut rest = stream;
    loop {
        if rest.len() < HEADER_LEN {
            return (events, Some(rest.len()));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len > max {
            events.push(Event::Error(
                paddock_proto::FrameError::TooLarge { len, max }.to_string(),
            ));
            return (events, None);
        }
        if rest.len() < HEADER_LEN + len {
            return (events, Some(rest.len()));
        }
        let (raw, tail) = rest.split_at(HEADER_LEN + len);
        match Frame::decode_payload(&raw[HEADER_LEN..]) {
            Ok(frame) => events.push(Event::Frame(frame, raw)),
            Err(e) => {
                events.push(Event::Error(e.to_string()));
                return (events, None);
            }
        }
        rest = tail;
    }
}

/// A frame in a few words: panic messages must stay readable when a frame holds kilobytes.
fn brief(frame: &Frame) -> String {
    match frame {
        Frame::Control(msg) => {
            let s = format!("Control({msg:?})");
            if s.len() > 300 {
                format!("{}… ({} chars)", &s[..s.floor_char_boundary(300)], s.len())
            } else {
                s
            }
        }
        Frame::Output { offset, data } => {
            format!("Output {{ offset: {offset}, {} bytes }}", data.len())
        }
        Frame::Input(data) => format!("Input({} bytes)", data.len()),
        Frame::Snapshot {
            offset,
            cols,
            rows,
            data,
        } => format!(
            "Snapshot {{ offset: {offset}, {cols}x{rows}, {} bytes }}",
            data.len()
        ),
    }
}

/// Where two byte strings first differ, for panic messages.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a.iter().zip(b).position(|(x, y)| x != y);
    format!(
        "lengths {} and {}, first difference at {:?}",
        a.len(),
        b.len(),
        at
    )
}

fn check_round_trip(frame: &Frame, raw: &[u8]) {
    let bytes = frame.encode();
    assert!(
        bytes.len() > HEADER_LEN,
        "encoded frame too short: {bytes:?}"
    );
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    assert_eq!(
        len,
        bytes.len() - HEADER_LEN,
        "length prefix disagrees with payload"
    );

    let back = Frame::decode_payload(&bytes[HEADER_LEN..])
        .unwrap_or_else(|e| panic!("re-encoded {} does not decode: {e}", brief(frame)));
    assert!(
        &back == frame,
        "decode(encode(frame)) != frame: {} became {}",
        brief(frame),
        brief(&back)
    );

    let mut dec = FrameDecoder::default();
    dec.extend(&bytes);
    let again = dec
        .next_frame()
        .unwrap_or_else(|e| panic!("fresh decoder refused re-encoded {}: {e}", brief(frame)));
    assert!(
        again.as_ref() == Some(frame),
        "fresh decoder gave {:?} for {}",
        again.as_ref().map(brief),
        brief(frame)
    );
    assert!(
        matches!(dec.next_frame(), Ok(None)),
        "fresh decoder found more than one frame"
    );
    assert_eq!(
        dec.buffered(),
        0,
        "fresh decoder kept bytes after the frame"
    );

    match frame {
        // JSON need not come back byte for byte (whitespace, escapes, omitted defaults), but
        // the canonical form must be a fixed point.
        Frame::Control(_) => {
            let twice = back.encode();
            assert!(
                twice == bytes,
                "control encoding not stable: {}",
                first_difference(&twice, &bytes)
            );
        }
        // Binary frames have exactly one encoding.
        _ => assert!(
            bytes == raw,
            "{} re-encoded differently: {}",
            brief(frame),
            first_difference(&bytes, raw)
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let max = match cfg & 0b11 {
        0 | 1 => MAX_FRAME_LEN,
        2 => 64,
        _ => usize::from((cfg >> 3) & 0b11),
    };
    let repeat = cfg & 0b100 != 0;
    let n = usize::from(cfg >> 5) + 1;
    if rest.len() < n {
        return;
    }
    let (schedule, stream) = rest.split_at(n);
    let repeated;
    let stream = if repeat && !stream.is_empty() {
        repeated = stream.repeat(REPEAT_TO / stream.len() + 1);
        &repeated[..]
    } else {
        stream
    };
    let all_empty = schedule.iter().all(|&s| s == 0);

    // The chunked decoder.
    let mut dec = FrameDecoder::new(max);
    let mut got: Vec<Result<Frame, String>> = Vec::new();
    let mut failed = false;
    let mut fed = 0;
    let mut turn = 0;
    'feed: while fed < stream.len() {
        let size = if all_empty {
            stream.len()
        } else {
            usize::from(schedule[turn % n])
        };
        turn += 1;
        let end = (fed + size).min(stream.len());
        dec.extend(&stream[fed..end]);
        fed = end;
        loop {
            match dec.next_frame() {
                Ok(Some(frame)) => got.push(Ok(frame)),
                Ok(None) => break,
                Err(e) => {
                    // The decoder is out of step now and must not be used again.
                    got.push(Err(e.to_string()));
                    failed = true;
                    break 'feed;
                }
            }
        }
    }

    // Compare with a one-pass parse of the whole stream.
    let (want, left) = reference(stream, max);
    for i in 0..got.len().max(want.len()) {
        match (got.get(i), want.get(i)) {
            (Some(Ok(frame)), Some(Event::Frame(expected, raw))) => {
                assert!(
                    frame == expected,
                    "item {i}: chunked decoder gave {}, one-pass parse gave {}",
                    brief(frame),
                    brief(expected)
                );
                check_round_trip(frame, raw);
            }
            (Some(Err(g)), Some(Event::Error(w))) => {
                assert_eq!(g, w, "item {i}: chunked decoder gave another error")
            }
            (g, w) => panic!(
                "item {i} of {} / {}: chunked decoder gave {}, one-pass parse gave {}",
                got.len(),
                want.len(),
                match g {
                    Some(Ok(f)) => brief(f),
                    Some(Err(e)) => format!("error: {e}"),
                    None => "nothing".into(),
                },
                match w {
                    Some(Event::Frame(f, _)) => brief(f),
                    Some(Event::Error(e)) => format!("error: {e}"),
                    None => "nothing".into(),
                }
            ),
        }
    }
    match left {
        Some(left) => {
            assert!(!failed);
            assert_eq!(
                dec.buffered(),
                left,
                "decoder holds the wrong number of bytes"
            );
            assert!(
                matches!(dec.next_frame(), Ok(None)),
                "decoder made up a frame"
            );
        }
        None => assert!(failed),
    }
});
