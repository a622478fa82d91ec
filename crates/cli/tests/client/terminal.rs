//! A terminal stream that resumes across dropped connections without losing or repeating a
//! byte, and says when bytes were lost.

use crate::support::{counting, listed, Paired, Relay};
use paddock_client::{AttachOptions, TerminalEvent};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_terminal_stream_resumes_after_dropped_connections_without_loss_or_duplication() {
    let paired = Paired::new("operator").await;
    let (env, hosts, host) = (&paired.env, &paired.hosts, &paired.host);
    let (url, _) = env.endpoint();
    let relay = Relay::to(url.trim_start_matches("https://").to_owned()).await;
    let mut via = host.clone();
    via.url = paddock_client::HostUrl::parse(&format!("https://{}", relay.addr)).expect("url");
    hosts.update(via).expect("update");

    let (id, expected) = counting(env);
    let client = paired.client();
    listed(&client, &id).await;
    let mut stream = client
        .attach(
            &id,
            AttachOptions {
                offset: Some(0),
                ..Default::default()
            },
        )
        .await
        .expect("attach");
    let mut got = Vec::new();
    let mut next_offset = 0u64;
    let (mut cuts, mut resumed) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < expected.len() {
        let ev = tokio::time::timeout_at(deadline.into(), stream.next())
            .await
            .expect("the stream delivered everything in time")
            .expect("the stream is open")
            .expect("no error");
        match ev {
            TerminalEvent::Output { offset, data } => {
                assert_eq!(
                    offset, next_offset,
                    "output continues exactly where it stopped"
                );
                next_offset += data.len() as u64;
                got.extend_from_slice(&data);
                // Cut the connection three times while output is still flowing.
                if cuts < 3 && got.len() > (cuts + 1) * expected.len() / 5 {
                    relay.cut();
                    cuts += 1;
                }
            }
            TerminalEvent::Attached { resumed: true, .. } => resumed += 1,
            TerminalEvent::Snapshot { .. } => {
                panic!("a resume from a known offset needs no snapshot")
            }
            _ => {}
        }
    }
    assert_eq!(cuts, 3);
    assert!(resumed >= 3, "resumed {resumed} times");
    assert!(*relay.accepted.lock().expect("lock") >= 4);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "every byte exactly once"
    );
}

// soak: begin
/// Found by the soak (`paddock-bench soak`): a client resuming from an offset whose bytes
/// the host no longer has got the host's snapshot without being told bytes were lost (the
/// `gap` of the host's `attached` was dropped), so a recorder or a viewer took the jump for
/// continuous output.
#[tokio::test]
async fn resuming_from_an_offset_the_host_no_longer_has_reports_the_gap() {
    let paired = Paired::new("operator").await;
    let env = &paired.env;
    // 20,000 lines (128,894 bytes on the terminal) through a 4 KiB ring.
    const PRINTED: u64 = 128_894;
    let id = env.run(&["--ring", "4K"], &["sh", "-c", "seq 1 20000; sleep 60"]);
    let client = paired.client();
    listed(&client, &id).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    // Wait until the agent printed everything (the ring wrapped many times).
    loop {
        let mut probe = client
            .attach(&id, AttachOptions::default())
            .await
            .expect("attach");
        let at = match tokio::time::timeout_at(deadline.into(), probe.next()).await {
            Ok(Some(Ok(TerminalEvent::Attached { offset, .. }))) => offset,
            other => panic!("expected attached first, got {other:?}"),
        };
        if at >= PRINTED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent printed only {at} bytes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stream = client
        .attach(
            &id,
            AttachOptions {
                offset: Some(10),
                ..Default::default()
            },
        )
        .await
        .expect("attach");
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), stream.next())
            .await
            .expect("an event in time")
            .expect("the stream is open")
            .expect("no error");
        match ev {
            TerminalEvent::Snapshot { offset, gap, .. } => {
                assert!(offset >= PRINTED, "the snapshot is of the screen now");
                assert!(gap, "bytes 10..{offset} are gone: the snapshot must say so");
                break;
            }
            TerminalEvent::Output { offset, .. } => {
                panic!("output at {offset} without the snapshot that says bytes were lost")
            }
            _ => {}
        }
    }
}
// soak: end
