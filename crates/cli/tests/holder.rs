//! The holder through its socket: streaming, snapshots, resume, lag, misbehaving clients.

mod common;

use common::*;
use paddock_host::client::{ClientError, Event};
use paddock_host::model::ScreenModel;
use paddock_proto::frame::encode_control;
use paddock_proto::{
    ErrorCode, Hello, Message, Mode, Notification, Request, Response, Size, Start, StreamKind,
};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn several_clients_see_identical_bytes() {
    let env = Env::new();
    let id = env.run(
        &[],
        &[
            "sh",
            "-c",
            "read x; seq 1 30000; printf '\\033[1;32mdone\\033[0m\\n'",
        ],
    );
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(env.follower(&id).await);
    }
    let mut writer = env.connect(&id, Hello::control(Mode::ReadWrite)).await;
    writer.send_input(b"go\r").await.expect("input");
    let mut seen = Vec::new();
    for c in &mut clients {
        let got = collect_until(c, T, "agent exit", |c| c.exited.is_some()).await;
        seen.push(got.bytes);
    }
    assert!(
        contains(&seen[0], b"29999\r\n30000\r\n"),
        "all output arrived"
    );
    assert!(
        seen.iter().all(|s| s == &seen[0]),
        "every client saw the same bytes"
    );
}

#[tokio::test]
async fn attach_mid_stream_shows_the_current_screen() {
    let env = Env::new();
    let script = r#"
        printf '\033]2;screen test\007'
        i=0; while [ $i -lt 60 ]; do printf '\033[3%dmline %d \033[1mbold\033[0m\r\n' $((i % 8)) $i; i=$((i+1)); done
        printf '\033[5;10H\033[44mHERE\033[0m\033[?2004h'
        read x"#;
    let id = env.run(&["--cols", "50", "--rows", "12"], &["sh", "-c", script]);
    let mut full = env.follower(&id).await;
    let all = collect_until(&mut full, T, "the drawing", |c| {
        c.saw(b"HERE\x1b[0m\x1b[?2004h")
    })
    .await;

    let mut late = env.connect(&id, Hello::new(Mode::ReadOnly)).await;
    assert_eq!(late.welcome.stream.kind, StreamKind::Snapshot);
    let Some(Event::Snapshot { offset, size, data }) = late.next_event().await.expect("event")
    else {
        panic!("the first thing after hello must be the snapshot");
    };
    assert_eq!(
        offset,
        all.next.expect("offset"),
        "snapshot is taken at the end of the output"
    );
    assert_eq!(size, Size { cols: 50, rows: 12 });

    // The reference: a fresh model fed every byte the session wrote.
    let mut replay = ScreenModel::new(size);
    replay.feed(&all.bytes);
    let mut from_snapshot = ScreenModel::new(size);
    from_snapshot.feed(&data);
    assert_eq!(
        from_snapshot.screen().contents_formatted(),
        replay.screen().contents_formatted()
    );
    assert_eq!(
        from_snapshot.screen().cursor_position(),
        replay.screen().cursor_position()
    );
    assert!(from_snapshot.screen().bracketed_paste());
    assert_eq!(from_snapshot.title(), "screen test");
    assert!(from_snapshot.screen().contents().contains("line 59 bold"));
}

#[tokio::test]
async fn resume_from_an_offset_gets_exactly_the_missing_bytes() {
    let env = Env::new();
    let id = env.run(
        &[],
        &["sh", "-c", "seq 1 5000; read x; seq 5001 9000; read y"],
    );
    let mut first = env.follower(&id).await;
    let got = collect_until(&mut first, T, "first half", |c| c.saw(b"5000\r\n")).await;
    let resume_at = got.next.expect("offset");
    drop(first);

    // More output while nobody watches.
    let mut w = env.connect(&id, Hello::control(Mode::ReadWrite)).await;
    w.send_input(b"\r").await.expect("input");
    let mut probe = env.follower(&id).await;
    let whole = collect_until(&mut probe, T, "second half", |c| c.saw(b"9000\r\n")).await;

    let mut hello = Hello::new(Mode::ReadOnly);
    hello.start = Start::Offset { offset: resume_at };
    let mut again = env.connect(&id, hello).await;
    assert_eq!(again.welcome.stream.kind, StreamKind::Bytes);
    assert_eq!(again.welcome.stream.offset, resume_at);
    let rest = collect_until(&mut again, T, "the missing bytes", |c| c.saw(b"9000\r\n")).await;
    assert_eq!(
        rest.bytes,
        whole.bytes[resume_at as usize..],
        "exactly the bytes after the offset"
    );
}

#[tokio::test]
async fn an_offset_no_longer_in_the_ring_gets_a_snapshot_and_says_so() {
    let env = Env::new();
    let id = env.run(&["--ring", "4K"], &["sh", "-c", "seq 1 20000; read x"]);
    let socket = env.socket(&id);
    wait_until_async("the ring to drop the first bytes", T, || {
        let socket = socket.clone();
        async move {
            matches!(paddock_host::sessions::query(&socket).await, Ok(s) if s.ring_start > 10)
        }
    })
    .await;
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.start = Start::Offset { offset: 10 };
    let late = env.connect(&id, hello).await;
    assert_eq!(late.welcome.stream.kind, StreamKind::Snapshot);
    assert!(
        late.welcome.stream.gap,
        "the client is told it missed bytes"
    );
    assert!(late.welcome.session.ring_start > 10);
}

#[tokio::test]
async fn a_malformed_client_is_closed_without_disturbing_others() {
    let env = Env::new();
    let id = env.run(&[], &["cat"]);
    let mut good = env
        .connect(&id, {
            let mut h = Hello::new(Mode::ReadWrite);
            h.start = Start::End;
            h
        })
        .await;

    // A frame claiming 1 GiB.
    let (mut bad_rd, mut bad_wr) = env
        .connect(&id, Hello::new(Mode::ReadWrite))
        .await
        .into_split();
    bad_wr
        .send_raw(&(1u32 << 30).to_le_bytes())
        .await
        .expect("send");
    let err = loop {
        match bad_rd.next_event().await.expect("event") {
            Some(Event::Error { id: None, error }) => break error,
            Some(_) => continue,
            None => panic!("closed without an error frame"),
        }
    };
    assert_eq!(err.code, ErrorCode::BadFrame);
    assert!(
        err.message.contains("larger than the limit"),
        "{}",
        err.message
    );
    assert!(
        matches!(bad_rd.next_event().await, Ok(None) | Err(_)),
        "the bad client is closed"
    );

    // Garbage JSON from a third client.
    let (mut rd3, mut wr3) = env
        .connect(&id, Hello::new(Mode::ReadOnly))
        .await
        .into_split();
    wr3.send_raw(&[5, 0, 0, 0, 0, b'{', b'x', b'x', b'x'])
        .await
        .expect("send");
    let mut closed_with_error = false;
    while let Ok(Some(ev)) = rd3.next_event().await {
        if let Event::Error { error, .. } = ev {
            closed_with_error = error.code == ErrorCode::BadFrame;
        }
    }
    assert!(closed_with_error);

    // The good client still types and sees its echo.
    good.send_input(b"still here\r").await.expect("input");
    let got = collect_until(&mut good, T, "echo", |c| {
        c.saw(b"still here\r\nstill here\r\n")
    })
    .await;
    assert!(!got.lagged);
}

#[tokio::test]
async fn unknown_requests_and_read_only_input_get_errors_and_keep_the_connection() {
    let env = Env::new();
    let id = env.run(&[], &["cat"]);
    let (mut rd, mut wr) = env
        .connect(&id, Hello::control(Mode::ReadOnly))
        .await
        .into_split();
    let mut raw = Vec::new();
    encode_control(
        &serde_json::from_str::<Message>(
            r#"{"type":"request","id":41,"payload":{"op":"teleport"}}"#,
        )
        .expect("json"),
        &mut raw,
    );
    wr.send_raw(&raw).await.expect("send");
    let Some(Event::Error {
        id: Some(41),
        error,
    }) = rd.next_event().await.expect("event")
    else {
        panic!("expected an error for request 41");
    };
    assert_eq!(error.code, ErrorCode::UnknownRequest);

    wr.send_input(b"typed").await.expect("send");
    let Some(Event::Error { error, .. }) = rd.next_event().await.expect("event") else {
        panic!("expected a read-only error");
    };
    assert_eq!(error.code, ErrorCode::ReadOnly);

    let rid = wr
        .send_request(Request::Signal {
            signal: paddock_proto::Signal::Int,
        })
        .await
        .expect("send");
    let Some(Event::Error {
        id: Some(got),
        error,
    }) = rd.next_event().await.expect("event")
    else {
        panic!("expected a read-only error for the signal");
    };
    assert_eq!((got, error.code), (rid, ErrorCode::ReadOnly));

    let rid = wr.send_request(Request::Info).await.expect("send");
    let Some(Event::Response {
        id: got,
        response: Response::Info { session },
    }) = rd.next_event().await.expect("event")
    else {
        panic!("the connection still answers");
    };
    assert_eq!(got, rid);
    assert_eq!(session.id.as_str(), id);
}

#[tokio::test]
async fn an_old_protocol_version_is_refused_clearly() {
    let env = Env::new();
    let id = env.run(&[], &["cat"]);
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.version = 0;
    match paddock_host::client::Client::connect(&env.socket(&id), hello).await {
        Err(ClientError::Refused(e)) => {
            assert_eq!(e.code, ErrorCode::UnsupportedVersion);
            assert!(e.message.contains("upgrade"), "{}", e.message);
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("version 0 accepted"),
    }
}

#[tokio::test]
async fn a_stalled_client_never_slows_the_agent_or_other_clients() {
    let env = Env::new();
    // ~7 MB of output, far more than the interactive lag limit (1 MiB); the ring holds it all,
    // so the reading (lossless) client can never be dropped however slow this machine is.
    let id = env.run(
        &["--ring", "64M"],
        &["sh", "-c", "read x; seq 1 1000000; echo FINISHED; read y"],
    );
    // This client says hello and then never reads.
    let mut stalled = env.connect(&id, Hello::new(Mode::ReadOnly)).await;
    let mut live = env.follower(&id).await;
    let mut w = env.connect(&id, Hello::control(Mode::ReadWrite)).await;
    w.send_input(b"\r").await.expect("input");
    let got = collect_until(&mut live, Duration::from_secs(60), "the whole flood", |c| {
        c.saw(b"FINISHED")
    })
    .await;
    assert!(!got.lagged, "a reading client is not resynced");
    assert!(contains(&got.bytes, b"999999\r\n1000000\r\n"));

    // The stalled client, once it reads, is told it lagged and gets a snapshot that shows
    // the end of the output.
    let mut saw_lag = false;
    let mut snapshot = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while snapshot.is_none() {
        let ev = tokio::time::timeout_at(deadline, stalled.next_event())
            .await
            .expect("lag notice in time")
            .expect("event")
            .expect("open");
        match ev {
            Event::Notification(Notification::Lagged { from, to }) => {
                saw_lag = true;
                assert!(to > from);
            }
            Event::Snapshot { data, size, .. } if saw_lag => snapshot = Some((data, size)),
            _ => {}
        }
    }
    let (data, size) = snapshot.expect("snapshot");
    let mut m = ScreenModel::new(size);
    m.feed(&data);
    assert!(m.screen().contents().contains("FINISHED"));
}

#[tokio::test]
async fn the_most_recent_writer_sets_the_size() {
    let env = Env::new();
    let id = env.run(
        &["--cols", "80", "--rows", "24"],
        &["sh", "-c", "while read x; do stty size; done"],
    );
    let mut a_hello = Hello::new(Mode::ReadWrite);
    a_hello.size = Some(Size {
        cols: 120,
        rows: 40,
    });
    a_hello.start = Start::End;
    let mut a = env.connect(&id, a_hello).await;
    assert_eq!(
        env.meta(&id).size,
        Size {
            cols: 120,
            rows: 40
        }
    );
    let mut b_hello = Hello::new(Mode::ReadWrite);
    b_hello.size = Some(Size {
        cols: 100,
        rows: 30,
    });
    b_hello.start = Start::End;
    let mut b = env.connect(&id, b_hello).await;
    assert_eq!(
        env.meta(&id).size,
        Size {
            cols: 100,
            rows: 30
        }
    );
    // A read-only viewer never changes it.
    let mut ro = Hello::new(Mode::ReadOnly);
    ro.size = Some(Size { cols: 20, rows: 5 });
    let _viewer = env.connect(&id, ro).await;
    // A types: its size comes back.
    a.send_input(b"\r").await.expect("input");
    collect_until(&mut a, T, "stty size of A", |c| c.saw(b"40 120")).await;
    b.send_input(b"\r").await.expect("input");
    collect_until(&mut b, T, "stty size of B", |c| c.saw(b"30 100")).await;
}

#[tokio::test]
async fn agents_start_with_sigpipe_at_its_default() {
    let env = Env::new();
    // `yes | head -1` ends quietly only when yes dies of SIGPIPE.
    let id = env.run(&[], &["sh", "-c", "yes | head -1; echo status=$?; read x"]);
    let mut f = env.follower(&id).await;
    let got = collect_until(&mut f, T, "status", |c| c.saw(b"status=")).await;
    assert!(
        !contains(&got.bytes, b"Broken pipe"),
        "yes saw EPIPE instead of SIGPIPE: {:?}",
        String::from_utf8_lossy(&got.bytes)
    );
}

#[tokio::test]
async fn a_thousand_disconnect_resume_cycles_during_a_flood_lose_and_double_nothing() {
    let env = Env::new();
    // The flood runs until the test has done its 1,000 cycles and creates the stop file, so
    // every cycle counted happens while output is pouring in, however fast this machine is.
    let stop = env.dir().join("stop-flood");
    let script = format!(
        "i=0; while [ ! -e {} ]; do echo $i; i=$((i+1)); done; echo END; read x",
        stop.display()
    );
    let id = env.run(&["--ring", "256M"], &["sh", "-c", &script]);
    let mut all = Vec::new();
    let mut offset = 0u64;
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut cycles = 0;
    let mut cycles_in_flood = 0;
    while !contains(&all[all.len().saturating_sub(8)..], b"END\r\n") {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut hello = Hello::new(Mode::ReadOnly);
        hello.start = Start::Offset { offset };
        hello.lossless = true;
        let mut c = env.connect(&id, hello).await;
        assert_eq!(
            c.welcome.stream.kind,
            StreamKind::Bytes,
            "cycle {cycles}: offset {offset} still in the ring"
        );
        // Once the flood is over, no frame will come: the remaining cycles only check that
        // each reconnect resumes at the right offset.
        let ended = all.ends_with(b"END\r\n");
        let frames = if ended { 0 } else { 1 + seed % 4 };
        if !ended {
            cycles_in_flood += 1;
            if cycles_in_flood == 1000 {
                std::fs::write(&stop, b"").expect("stop file");
            }
        }
        for _ in 0..frames {
            let ev = tokio::time::timeout(Duration::from_millis(200), c.next_event()).await;
            match ev {
                Ok(Ok(Some(Event::Output { offset: o, data }))) => {
                    assert_eq!(
                        o, offset,
                        "cycle {cycles}: stream resumed at the wrong offset"
                    );
                    offset += data.len() as u64;
                    all.extend_from_slice(&data);
                }
                Ok(Ok(Some(_))) => {}
                _ => break,
            }
        }
        drop(c);
        cycles += 1;
        assert!(cycles < 200_000, "the flood never finished");
    }
    let (text, expected) = numbered_lines(all);
    assert!(text.contains("\r\nEND\r\n"), "the flood's end arrived");
    assert!(expected > 1000, "a real flood: {expected} lines");
    assert!(
        cycles_in_flood >= 1000,
        "only {cycles_in_flood} cycles happened while the flood ran"
    );
}

/// The model fast-forwards through plain floods (crates/host/src/fastforward.rs); what a
/// client is shown afterwards, the attach snapshot and the screen's text (`paddock show`),
/// must be exactly what a terminal fed every byte shows. The flood is larger than the ring,
/// so the model works through it in many steps while the ring wraps.
#[tokio::test]
async fn after_a_flood_a_snapshot_shows_what_a_terminal_shows() {
    let env = Env::new();
    let script = r#"
        printf '\033]2;flood test\007\033[1;31mred before\033[0m\r\n'
        read x
        seq 1 800000
        printf '\033[44mblue\033[0m after the flood\r\n'
        seq 1 100 | tr '\n' ' '
        printf '\033[3;7Hplaced'
        read y"#;
    let id = env.run(&["--cols", "60", "--rows", "15"], &["sh", "-c", script]);
    // Held (the agent waits for it), so it gets every byte though the flood outgrows the ring.
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.start = Start::RingStart;
    hello.lossless = true;
    hello.backpressure = Some(paddock_proto::Backpressure { stall_ms: 30_000 });
    let mut all = env.connect(&id, hello).await;
    let mut control = env.connect(&id, Hello::control(Mode::ReadWrite)).await;
    control.send_input(b"\r").await.expect("input");
    let got = collect_until(&mut all, Duration::from_secs(120), "the flood", |c| {
        c.saw(b"\x1b[3;7Hplaced")
    })
    .await;
    assert!(got.bytes.len() > 6_000_000, "{} bytes", got.bytes.len());

    let size = Size { cols: 60, rows: 15 };
    let mut terminal = ScreenModel::eager(size, 0);
    terminal.feed(&got.bytes);

    let mut late = env.connect(&id, Hello::new(Mode::ReadOnly)).await;
    let Some(Event::Snapshot { offset, data, .. }) = late.next_event().await.expect("event") else {
        panic!("the first thing after hello must be the snapshot");
    };
    assert_eq!(
        Some(offset),
        got.next,
        "the snapshot is of the end of the output"
    );
    let mut shown = ScreenModel::eager(size, 0);
    shown.feed(&data);
    assert_eq!(
        shown.screen().contents_formatted(),
        terminal.screen().contents_formatted()
    );
    assert_eq!(
        shown.screen().cursor_position(),
        terminal.screen().cursor_position()
    );
    assert_eq!(shown.title(), "flood test");
    assert!(shown
        .screen()
        .contents()
        .contains("800000\nblue after the flood\n1 2 3"));

    let Response::Screen { rows, offset, .. } =
        control.request(Request::Screen).await.expect("screen")
    else {
        panic!("a screen request is answered with the screen");
    };
    assert_eq!(Some(offset), got.next);
    assert_eq!(rows, terminal.text().rows);
}
