//! The OSC 7501 scanner on what a program prints: the reference's examples, queries
//! answered in kind, reports split at any read boundary, other escapes passed through, and
//! hostile, oversize or cancelled reports dropped whole without a panic.

use super::*;
use base64::engine::general_purpose::STANDARD;
use rand::{Rng, SeedableRng};

fn scan(chunks: &[&[u8]]) -> (Vec<u8>, Vec<Found>) {
    let mut s = Scanner::new();
    let mut found = Vec::new();
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&s.feed(c, &mut found));
    }
    (out, found)
}

fn report(state: ProgramState) -> ProgramStatus {
    ProgramStatus {
        state,
        kind: None,
        app: None,
        message: None,
        title: None,
        progress: None,
        id: None,
        at: String::new(),
    }
}

#[test]
fn the_references_examples_parse_and_leave_the_output_clean() {
    let msg = STANDARD.encode("approve Bash: echo hi > osc.txt");
    let stream = format!(
        "before\x1b]7501;state=idle:app=claude-code\x1b\\mid\x1b]7501;state=working\x07\
         \x1b]7501;state=blocked:app=claude-code:kind=permission:msg={msg}\x1b\\after"
    );
    let (out, found) = scan(&[stream.as_bytes()]);
    assert_eq!(out, b"beforemidafter");
    let blocked = ProgramStatus {
        kind: Some(BlockedKind::Permission),
        app: Some("claude-code".into()),
        message: Some("approve Bash: echo hi > osc.txt".into()),
        ..report(ProgramState::Blocked)
    };
    assert_eq!(
        found,
        vec![
            Found::Report(ProgramStatus {
                app: Some("claude-code".into()),
                ..report(ProgramState::Idle)
            }),
            Found::Report(report(ProgramState::Working)),
            Found::Report(blocked),
        ]
    );
}

#[test]
fn the_query_is_found_with_its_terminator_and_answered_in_kind() {
    let (out, found) = scan(&[b"\x1b]7501;?\x1b\\\x1b[c", b"\x1b]7501;?\x07"]);
    assert_eq!(out, b"\x1b[c", "the query is the holder's; DA1 passes on");
    assert_eq!(
        found,
        vec![Found::Query(Terminator::St), Found::Query(Terminator::Bel)]
    );
    assert_eq!(reply(Terminator::St), b"\x1b]7501;?\x1b\\");
    assert_eq!(reply(Terminator::Bel), b"\x1b]7501;?\x07");
}

#[test]
fn a_report_split_across_every_read_boundary_is_found_once() {
    let stream: &[u8] = b"ab\x1b]0;title\x07cd\x1b]7501;state=done:progress=100\x1b\\ef\x1b[1m";
    for cut in 0..stream.len() {
        for cut2 in cut..stream.len() {
            let (out, found) = scan(&[&stream[..cut], &stream[cut..cut2], &stream[cut2..]]);
            assert_eq!(out, b"ab\x1b]0;title\x07cdef\x1b[1m", "cut at {cut}/{cut2}");
            assert_eq!(
                found,
                vec![Found::Report(ProgramStatus {
                    progress: Some(100),
                    ..report(ProgramState::Done)
                })]
            );
        }
    }
}

#[test]
fn other_escape_sequences_pass_through_untouched() {
    let stream: &[u8] = b"\x1b]750;x\x07\x1b]75010;y\x07\x1b]7501x\x1b\x1b[31m\x1b]8;;u\x1b\\";
    let (out, found) = scan(&[stream]);
    assert_eq!(out, stream);
    assert!(found.is_empty());
}

#[test]
fn an_oversize_report_is_dropped_whole() {
    let long = format!(
        "x\x1b]7501;state=working:msg={}\x07y",
        "QUJD".repeat(MAX_SEQUENCE / 4)
    );
    let (out, found) = scan(&[long.as_bytes()]);
    assert_eq!(out, b"xy", "none of its bytes is shown");
    assert_eq!(found, vec![Found::Dropped(Invalid::TooLong)]);
}

#[test]
fn hostile_values_drop_the_report() {
    let cases: Vec<(String, Invalid)> = vec![
        ("state=working:msg=!!!".into(), Invalid::Value("msg")),
        (
            format!("state=working:msg={}", STANDARD.encode("red \x1b[31m")),
            Invalid::Value("msg"),
        ),
        (
            format!("state=working:msg={}", STANDARD.encode([0xff, 0xfe])),
            Invalid::Value("msg"),
        ),
        (
            format!("state=working:title={}", STANDARD.encode("t".repeat(193))),
            Invalid::Value("title"),
        ),
        ("state=sleeping".into(), Invalid::Value("state")),
        (
            "state=working:progress=101".into(),
            Invalid::Value("progress"),
        ),
        (
            "state=working:progress=-1".into(),
            Invalid::Value("progress"),
        ),
        (
            "state=working:state=idle".into(),
            Invalid::Duplicate("state".into()),
        ),
        ("state=working:Key=1".into(), Invalid::Key("Key".into())),
        ("state=working:nokey".into(), Invalid::Field),
        ("kind=permission".into(), Invalid::NoState),
        (
            format!("state=idle:app={}", "a".repeat(33)),
            Invalid::Value("app"),
        ),
        ("state=idle:id=a..b".into(), Invalid::Value("id")),
        (
            format!("state=idle:id={}", ["s"; 9].join(".")),
            Invalid::Value("id"),
        ),
    ];
    for (body, why) in cases {
        let seq = format!("\x1b]7501;{body}\x07");
        let (out, found) = scan(&[seq.as_bytes()]);
        assert!(out.is_empty(), "{body}: bytes leaked");
        assert_eq!(found, vec![Found::Dropped(why)], "{body}");
    }
}

#[test]
fn control_bytes_and_cancels_inside_a_sequence() {
    let (out, found) = scan(&[b"\x1b]7501;state=wor\nking\x07ok"]);
    assert_eq!(
        (out.as_slice(), found),
        (&b"ok"[..], vec![Found::Dropped(Invalid::Control)])
    );
    let (out, found) = scan(&[b"\x1b]7501;state=working\x18ok"]);
    assert_eq!((out.as_slice(), found), (&b"ok"[..], vec![]));
    let (out, found) = scan(&[b"\x1b]7501;state=working\x1b[1mok"]);
    assert_eq!(
        (out.as_slice(), found),
        (
            &b"\x1b[1mok"[..],
            vec![Found::Dropped(Invalid::Unterminated)]
        )
    );
}

#[test]
fn unknown_keys_and_kinds_are_ignored_and_clear_removes() {
    let (_, found) = scan(&[b"\x1b]7501;state=blocked:kind=payment:future=x-1:id=sub.task-2\x07"]);
    assert_eq!(
        found,
        vec![Found::Report(ProgramStatus {
            id: Some("sub.task-2".into()),
            ..report(ProgramState::Blocked)
        })]
    );
    let (_, found) = scan(&[b"\x1b]7501;state=clear\x07\x1b]7501;state=clear:id=a\x07"]);
    assert_eq!(
        found,
        vec![
            Found::Clear { id: None },
            Found::Clear {
                id: Some("a".into())
            }
        ]
    );
    let (_, found) = scan(&[b"\x1b]7501;state=working:kind=permission\x07"]);
    assert_eq!(found, vec![Found::Report(report(ProgramState::Working))]);
}

/// Random streams of protocol fragments, escapes and noise, cut at random places: the
/// scanner never panics, and gives the same output and finds the same things however the
/// stream is cut.
#[test]
fn random_streams_cut_anywhere_scan_the_same_and_never_panic() {
    let pieces: &[&[u8]] = &[
        b"\x1b]7501;",
        b"\x1b]7501;?\x07",
        b"state=working",
        b"state=blocked:kind=permission:msg=YXBwcm92ZSBCYXNoOiBscw==",
        b":",
        b"=",
        b"\x07",
        b"\x1b\\",
        b"\x1b",
        b"\x1b]",
        b"\x1b]0;t\x07",
        b"\x18",
        b"\n",
        b"\xff\x9c",
        b"hello",
        b"7501;",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7501);
    for _ in 0..3000 {
        let mut stream = Vec::new();
        for _ in 0..rng.gen_range(0..40) {
            if rng.gen_bool(0.1) {
                stream.extend((0..rng.gen_range(1..300)).map(|_| rng.gen::<u8>()));
            } else {
                stream.extend_from_slice(pieces[rng.gen_range(0..pieces.len())]);
            }
        }
        let (whole_out, whole_found) = scan(&[&stream]);
        let mut chunks = Vec::new();
        let mut rest = stream.as_slice();
        while !rest.is_empty() {
            let n = rng.gen_range(1..=rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        let (out, found) = scan(&chunks);
        assert_eq!(out, whole_out);
        assert_eq!(found, whole_found);
    }
}
