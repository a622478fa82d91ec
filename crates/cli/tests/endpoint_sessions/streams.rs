//! The event and terminal streams over WSS, resumed through a flood.

use crate::common::{numbered_lines, wait_until, Env};
use crate::web::{next_json, next_json_of, send, up};
use futures_util::StreamExt;
use paddock_proto::web::{ServerMessage, TerminalFrame};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn events_and_a_terminal_stream_over_wss() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let mut ws = web.ws(Some(&token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await.expect("resync")["type"], "resync");
    let id = env.run(&["--name", "echoer"], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    let started = Instant::now();
    loop {
        let m = next_json(&mut ws).await.expect("event");
        if m["type"] == "session_update" && m["payload"]["session"]["id"] == id.as_str() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no session_update"
        );
    }
    send(
        &mut ws,
        json!({"type": "attach", "session": id, "size": {"cols": 80, "rows": 24}}),
    )
    .await;
    let a = next_json_of(&mut ws, &["attached"]).await;
    assert_eq!(a["writable"], true);
    send(
        &mut ws,
        json!({"type": "input", "session": id, "data": "hello over wss\r"}),
    )
    .await;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&out)
        .matches("hello over wss")
        .count()
        .ge(&2)
    {
        assert!(
            Instant::now() < deadline,
            "echo never came: {}",
            String::from_utf8_lossy(&out)
        );
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match TerminalFrame::decode(&b).expect("frame") {
                TerminalFrame::Output { data, .. } | TerminalFrame::Snapshot { data, .. } => {
                    out.extend_from_slice(&data)
                }
            },
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
    // The ServerMessage type decodes what the server sends.
    let _: ServerMessage = serde_json::from_value(a).expect("attached decodes");
}

#[tokio::test]
async fn a_thousand_wss_disconnect_resume_cycles_during_a_flood_lose_and_double_nothing() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "viewer").await;
    let stop = env.dir().join("stop-flood");
    // Lines as fast as sh can write them, with a 10 ms breath every 500 lines: on a busy
    // 2-core machine an unbroken flood starved the holder's hello for more than 5 s, again
    // and again; the cycles still all happen while output pours in.
    let script = format!(
        "read go; i=0; while [ ! -e {} ]; do echo $i; i=$((i+1)); [ $((i % 500)) -ne 0 ] || sleep 0.01; done; echo END; read x",
        stop.display()
    );
    let id = env.run(&["--ring", "256M"], &["sh", "-c", &script]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    env.ok(&["send", &id, "--enter", ""]);
    let mut all: Vec<u8> = Vec::new();
    let mut offset = 0u64;
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut cycles_in_flood = 0;
    let mut cycles = 0;
    let mut started_at: Option<u64> = None;
    let mut retries = 0;
    loop {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut ws = web.ws(Some(&token)).await;
        send(
            &mut ws,
            json!({"type": "attach", "session": id, "offset": offset}),
        )
        .await;
        let a = next_json_of(&mut ws, &["attached", "error"]).await;
        if a["type"] == "error" {
            // A holder slow to answer (a loaded machine, mid-flood) is like a failed
            // reconnect: the client tries again from the same offset.
            assert_eq!(a["code"], "unavailable", "cycle {cycles}: {a}");
            retries += 1;
            assert!(retries <= 50, "too many failed attaches: {a}");
            continue;
        }
        assert_eq!(
            (a["snapshot"].as_bool(), a["gap"].as_bool()),
            (Some(false), Some(false)),
            "cycle {cycles}: {a}"
        );
        assert_eq!(
            a["offset"].as_u64(),
            Some(offset),
            "cycle {cycles} resumes where it left"
        );
        let ended = all.ends_with(b"END\r\n");
        if ended {
            break;
        }
        cycles_in_flood += 1;
        if cycles_in_flood == 1000 {
            std::fs::write(&stop, b"").expect("stop file");
        }
        let frames = 1 + seed % 4;
        let mut got = 0;
        while got < frames {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => match TerminalFrame::decode(&b).expect("frame")
                {
                    TerminalFrame::Output {
                        offset: o, data, ..
                    } => {
                        assert_eq!(
                            o, offset,
                            "cycle {cycles}: a byte lost or doubled at the seam"
                        );
                        started_at.get_or_insert(o);
                        offset += data.len() as u64;
                        all.extend_from_slice(&data);
                        got += 1;
                    }
                    TerminalFrame::Snapshot { .. } => {
                        panic!("cycle {cycles}: resynced by a snapshot")
                    }
                },
                Ok(Some(Ok(Message::Text(t)))) => {
                    let m: Value = serde_json::from_str(&t).expect("json");
                    assert_ne!(m["type"], "lagged", "cycle {cycles}: {m}");
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
            if all.ends_with(b"END\r\n") {
                break;
            }
        }
        // Cut without a goodbye half the time, like a phone losing its network.
        if seed.is_multiple_of(2) {
            let _ = ws.close(None).await;
        }
        drop(ws);
        cycles += 1;
        assert!(cycles < 100_000, "the flood never finished");
    }
    let (text, expected) = numbered_lines(all);
    assert!(text.ends_with("\r\nEND\r\n"));
    assert!(expected > 1000, "a real flood: {expected} lines");
    assert!(
        cycles_in_flood >= 1000,
        "{cycles_in_flood} cycles during the flood"
    );
    assert_eq!(started_at, Some(0));
}
