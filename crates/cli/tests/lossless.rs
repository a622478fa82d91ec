//! Lossless followers and fan-out under pressure, through real holders: `paddock logs
//! --follow --raw` gets every byte of a flood because the agent waits for it; a follower
//! that stops reading is demoted after its stall limit and told, and the agent runs on;
//! fifty clients on one busy session, one of them stalled, are served without waiting for
//! the stalled one, which is resynced and told.

mod common;

use common::*;
use paddock_host::client::{Client, Event};
use paddock_proto::{
    Backpressure, Hello, Mode, Notification, Request, Response, SessionInfo, SessionState, Start,
};
use std::io::Read;
use std::ops::RangeInclusive;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(120);
/// Far more output than the ring the sessions below get (64 KiB).
const LINES: u32 = 600_000;
/// The flood: `read x` waits for the "\r" that starts it.
const FLOOD: &str = "read x; seq 1 600000";

/// What `seq` of `lines` prints through the terminal once "\r" started it: the echo of
/// "\r", then each line with ONLCR's "\r\n".
fn seq_printed(lines: RangeInclusive<u32>) -> Vec<u8> {
    let mut want = b"\r\n".to_vec();
    for i in lines {
        want.extend_from_slice(format!("{i}\r\n").as_bytes());
    }
    want
}

/// What the flood prints through the terminal.
fn flood_bytes() -> Vec<u8> {
    seq_printed(1..=LINES)
}

/// A session running `sh -c SCRIPT` with a ring of `ring` bytes.
fn sh_session(env: &Env, ring: &str, script: &str) -> String {
    env.run(&["--ring", ring], &["sh", "-c", script])
}

/// A session with a 64 KiB ring that prints the flood once "\r" is typed.
fn flood_session(env: &Env) -> String {
    sh_session(env, "64K", FLOOD)
}

/// Starts `paddock logs --follow --raw ID EXTRA…` with its stdout going to `stdout`.
fn follow(env: &Env, id: &str, extra: &[&str], stdout: Stdio) -> Child {
    env.cmd()
        .args(["logs", "--follow", "--raw", id])
        .args(extra)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("paddock logs")
}

/// The session's metadata, live from its holder.
async fn info(env: &Env, id: &str) -> SessionInfo {
    let mut c = env.connect(id, Hello::control(Mode::ReadOnly)).await;
    match c.request(Request::Info).await.expect("info") {
        Response::Info { session } => *session,
        other => panic!("not info: {other:?}"),
    }
}

/// Waits until the holder counts `n` attached streaming clients.
async fn wait_attached(env: &Env, id: &str, n: u32) {
    wait_until_async("the followers to attach", T, || async {
        info(env, id).await.clients >= n
    })
    .await;
}

/// Types "\r" into the session, which starts its flood.
async fn start_flood(env: &Env, id: &str) {
    let mut w = env.connect(id, Hello::control(Mode::ReadWrite)).await;
    w.send_input(b"\r").await.expect("input");
}

/// Starts `paddock logs --follow --raw ID EXTRA…`, waits for it to attach, then starts
/// the flood.
async fn follow_the_flood(env: &Env, id: &str, extra: &[&str], stdout: Stdio) -> Child {
    let logs = follow(env, id, extra, stdout);
    wait_attached(env, id, 1).await;
    start_flood(env, id).await;
    logs
}

/// Waits until the session's agent has exited.
async fn wait_agent_exited(env: &Env, id: &str, what: &str) {
    wait_until_async(what, T, || async {
        info(env, id).await.state == SessionState::Exited
    })
    .await;
}

/// A hello for a client the agent waits for (default stall limit).
fn held_hello(start: Start) -> Hello {
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.start = start;
    hello.backpressure = Some(Backpressure {
        stall_ms: Backpressure::DEFAULT_STALL_MS,
    });
    hello
}

/// The client's next event, by `deadline`.
async fn next_event(client: &mut Client, deadline: tokio::time::Instant, what: &str) -> Event {
    tokio::time::timeout_at(deadline, client.next_event())
        .await
        .unwrap_or_else(|_| panic!("{what} within the limit"))
        .expect("event")
        .expect("open")
}

/// Everything a follower's `paddock logs` writes, to its end.
fn read_all(logs: &mut Child) -> Vec<u8> {
    let mut got = Vec::new();
    logs.stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut got)
        .expect("read the follower");
    got
}

/// Waits for `child` to end: its exit status and what it said on stderr.
fn ended(child: &mut Child, what: &str) -> (ExitStatus, String) {
    let deadline = Instant::now() + T;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status, err)
}

/// `paddock logs --follow` ended with the session, successfully, with nothing to report.
fn assert_ended_quietly(logs: &mut Child) {
    let (status, err) = ended(logs, "`logs --follow` to end with the session");
    assert!(status.success(), "logs failed: {err}");
    assert!(err.is_empty(), "nothing to report, yet: {err}");
}

/// The first index where `got` and `want` differ, for a readable failure.
fn first_difference(got: &[u8], want: &[u8]) -> Option<usize> {
    got.iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .or((got.len() != want.len()).then_some(got.len().min(want.len())))
}

fn assert_whole(got: &[u8], what: &str) {
    let want = flood_bytes();
    if let Some(at) = first_difference(got, &want) {
        panic!(
            "{what}: {} bytes instead of {}; first difference at byte {at}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            String::from_utf8_lossy(&got[at..(at + 40).min(got.len())]),
            String::from_utf8_lossy(&want[at..(at + 40).min(want.len())]),
        );
    }
}

#[tokio::test]
async fn a_flood_followed_into_a_file_arrives_whole() {
    let env = Env::new();
    let id = flood_session(&env);
    let path = env.dir().join("followed.out");
    let file = std::fs::File::create(&path).expect("output file");
    let mut logs = follow_the_flood(&env, &id, &[], Stdio::from(file)).await;
    assert_ended_quietly(&mut logs);
    assert_whole(&std::fs::read(&path).expect("read output"), "the file");
}

#[tokio::test]
async fn the_agent_waits_while_a_follower_pauses_and_the_follower_gets_every_byte() {
    let env = Env::new();
    let id = flood_session(&env);
    let mut logs = follow_the_flood(&env, &id, &["--stall-limit", "30"], Stdio::piped()).await;
    // The follower's pipe fills and it stops reading; the agent must wait for it: its output
    // stops growing once what is in flight fills the ring, the socket and the follower's
    // buffers, and it has not finished after a pause of two seconds.
    let deadline = Instant::now() + T;
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = info(&env, &id).await.output_end;
        if now == last && now > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent never waited: output at {now}"
        );
        last = now;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let info = info(&env, &id).await;
    assert_eq!(
        info.state,
        SessionState::Running,
        "the agent did not wait for the paused follower"
    );
    // Far less than the flood is in flight (ring 64 KiB, socket, 1 MiB buffer, pipe).
    assert!(
        info.output_end < flood_bytes().len() as u64 / 2,
        "the agent ran on while the follower paused: {} of {} bytes",
        info.output_end,
        flood_bytes().len()
    );

    let got = read_all(&mut logs);
    assert_ended_quietly(&mut logs);
    assert_whole(&got, "the paused follower's output");
}

#[tokio::test]
async fn a_follower_that_stops_reading_is_demoted_after_its_limit_and_told() {
    let env = Env::new();
    let id = flood_session(&env);
    let mut logs = follow_the_flood(&env, &id, &["--stall-limit", "1"], Stdio::piped()).await;
    // Nobody reads the follower's output: after a second the agent runs on to its end.
    wait_agent_exited(&env, &id, "the agent to finish without its reader").await;
    assert_eq!(info(&env, &id).await.output_end, flood_bytes().len() as u64);

    let got = read_all(&mut logs);
    let (status, err) = ended(&mut logs, "`logs --follow` to end with the session");
    assert!(status.success(), "logs failed: {err}");
    assert!(
        err.contains("took nothing for 1.0 s while the agent waited for it"),
        "the follower was not told it was demoted: {err:?}"
    );
    assert!(
        err.contains("bytes of output were lost"),
        "the follower was not told what it missed: {err:?}"
    );
    let want = flood_bytes();
    assert!(
        got.len() < want.len(),
        "a demoted follower cannot have it all"
    );
    let kept = first_difference(&got, &want).expect("a gap");
    assert!(kept > 0, "what came before the gap is intact");
}

/// A held follower gets its output in batches; what a quiet agent printed last must not
/// wait for a batch to fill, and batches must arrive in order, each starting where the last
/// ended, whatever their size.
#[tokio::test]
async fn a_held_follower_gets_a_quiet_agents_last_line_at_once_and_every_byte_in_order() {
    let env = Env::new();
    let id = sh_session(
        &env,
        "1M",
        "read x; echo first; read y; seq 1 600000; read z",
    );
    let mut held = env.connect(&id, held_hello(Start::End)).await;
    let mut next = held.welcome.stream.offset;
    let mut got = Vec::new();
    let mut frames = 0usize;
    wait_attached(&env, &id, 1).await;
    start_flood(&env, &id).await;

    // One short line, then the agent waits for input: it arrives without more output.
    let first = b"\r\nfirst\r\n";
    let deadline = tokio::time::Instant::now() + T;
    while got.len() < first.len() {
        let ev = next_event(&mut held, deadline, "the quiet agent's line").await;
        if let Event::Output { offset, data } = ev {
            assert_eq!(offset, next, "output out of order");
            next += data.len() as u64;
            got.extend_from_slice(&data);
        }
    }
    assert_eq!(got, first);

    // Then a flood: every byte, each frame where the previous one ended.
    start_flood(&env, &id).await;
    let mut want = first.to_vec();
    want.extend_from_slice(&flood_bytes());
    while got.len() < want.len() {
        match next_event(&mut held, deadline, "the whole flood").await {
            Event::Output { offset, data } => {
                assert_eq!(offset, next, "output out of order after {frames} frames");
                next += data.len() as u64;
                got.extend_from_slice(&data);
                frames += 1;
            }
            Event::Notification(
                n @ (Notification::Lagged { .. } | Notification::Demoted { .. }),
            ) => {
                panic!("a held follower that keeps reading lost output: {n:?}")
            }
            _ => {}
        }
    }
    if let Some(at) = first_difference(&got, &want) {
        panic!("the followed bytes differ from byte {at} on ({frames} frames)");
    }
}

#[tokio::test]
async fn fifty_clients_with_one_stalled_the_rest_get_every_byte_and_the_stalled_one_is_resynced() {
    const HELD: usize = 49;
    let env = Env::new();
    let id = env.run(&[], &["sh", "-c", "read x; seq 1 600000; read y"]);
    let want = flood_bytes();
    // One ordinary client says hello and then reads nothing.
    let mut stalled = env.connect(&id, Hello::new(Mode::ReadOnly)).await;
    let mut readers = Vec::new();
    for _ in 0..HELD {
        let mut client = env.connect(&id, held_hello(Start::End)).await;
        let len = want.len();
        readers.push(tokio::spawn(async move {
            collect_until(&mut client, T, "the whole flood", |c| c.bytes.len() >= len).await
        }));
    }
    wait_attached(&env, &id, HELD as u32 + 1).await;
    let holder = info(&env, &id).await.holder_pid;
    start_flood(&env, &id).await;
    for (i, reader) in readers.into_iter().enumerate() {
        let got = reader.await.expect("reader task");
        assert!(!got.lagged, "client {i} was resynced");
        assert!(got.bytes == want, "client {i} got different bytes");
    }
    // Memory stays bounded: the ring (4 MiB) and a frame per client, not a queue of output.
    let rss = vm_rss_kib(holder);
    assert!(rss < 64 * 1024, "the holder grew to {rss} KiB");

    // The stalled client is told it lagged, then gets the screen as it is now.
    let mut lagged = None;
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match next_event(&mut stalled, deadline, "the lag notice").await {
            Event::Notification(Notification::Lagged { from, to }) => lagged = Some((from, to)),
            Event::Snapshot { data, .. } if lagged.is_some() => {
                assert!(contains(&data, b"600000"), "the snapshot shows the end");
                break;
            }
            _ => {}
        }
    }
    let (from, to) = lagged.expect("lagged");
    assert!(to > from);
}

/// An ordinary client that reads nothing is never waited for: the agent prints its whole
/// flood and exits while that client has not taken a byte, and the client is then resynced.
#[tokio::test]
async fn an_ordinary_client_that_reads_nothing_does_not_hold_the_agent_back() {
    let env = Env::new();
    let id = flood_session(&env);
    let mut stalled = env.connect(&id, Hello::new(Mode::ReadOnly)).await;
    wait_attached(&env, &id, 1).await;
    start_flood(&env, &id).await;
    wait_agent_exited(
        &env,
        &id,
        "the agent to finish beside a client reading nothing",
    )
    .await;
    assert_eq!(info(&env, &id).await.output_end, flood_bytes().len() as u64);
    let mut lagged = false;
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match next_event(&mut stalled, deadline, "the stalled client's events").await {
            Event::Notification(Notification::Lagged { .. }) => lagged = true,
            Event::Notification(Notification::Exited { .. }) => break,
            _ => {}
        }
    }
    assert!(lagged, "the client that fell behind was not told");
}

/// The resident memory of `pid`, in KiB.
fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::test]
async fn a_version_1_client_is_served_as_before() {
    let env = Env::new();
    let id = env.run(&[], &["sh", "-c", "echo HELLO-V1; read x"]);
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.version = 1;
    hello.start = Start::RingStart;
    hello.lossless = true;
    let mut client = env.connect(&id, hello).await;
    assert_eq!(
        client.welcome.version, 1,
        "the holder answers in the client's version"
    );
    collect_until(&mut client, T, "the session's output", |c| {
        c.saw(b"HELLO-V1")
    })
    .await;
}

#[tokio::test]
async fn a_follower_of_a_tmux_pane_is_told_at_once_that_the_pane_cannot_wait_for_it() {
    let env = Env::new();
    let (tmux, pane) = TmuxServer::start(&env, 80, 24, "sh -c 'echo READY; read x'");
    wait_until("the pane's output", T, || {
        tmux.capture(&pane).contains("READY")
    });
    let socket = tmux.socket.to_str().expect("utf8");
    let id = env
        .ok(&["tmux-attach", "--socket", socket, &pane])
        .trim()
        .to_owned();
    let mut client = env.connect(&id, held_hello(Start::RingStart)).await;
    let deadline = tokio::time::Instant::now() + T;
    let reason = loop {
        let ev = next_event(&mut client, deadline, "the notice").await;
        if let Event::Notification(Notification::Demoted { reason }) = ev {
            break reason;
        }
    };
    assert!(reason.contains("mirrors a tmux pane"), "{reason}");
    // It stays attached as an ordinary follower: the pane's screen follows.
    collect_until(&mut client, T, "the pane's output", |c| c.saw(b"READY")).await;
}

// ---- The holder writes into a raw follower's pipe itself (issue 17, `host::sink`) ----

/// `logs --follow --raw` into a pipe passes the pipe to the holder, which writes the output
/// into it itself: every byte arrives, in order, even while `paddock logs` is stopped
/// (SIGSTOP), which a relaying follower could not do; `logs` still ends with the session.
#[tokio::test]
async fn a_raw_followers_pipe_is_written_by_the_holder_itself_even_while_logs_is_stopped() {
    let env = Env::new();
    let id = flood_session(&env);
    let mut logs = follow(&env, &id, &[], Stdio::piped());
    wait_attached(&env, &id, 1).await;
    let pid = nix::unistd::Pid::from_raw(logs.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).expect("stop logs");
    start_flood(&env, &id).await;
    let want = flood_bytes();
    let mut stdout = logs.stdout.take().expect("stdout");
    let len = want.len();
    let reader = std::thread::spawn(move || {
        let mut got = vec![0u8; len];
        let read = stdout.read_exact(&mut got);
        (read, got, stdout)
    });
    let deadline = Instant::now() + T;
    while !reader.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the flood did not arrive while `paddock logs` was stopped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (read, got, mut stdout) = reader.join().expect("reader thread");
    read.expect("the whole flood through the pipe while logs was stopped");
    assert_whole(&got, "the stopped follower's pipe");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).expect("continue logs");
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).expect("the end of the pipe");
    assert!(rest.is_empty(), "bytes after the flood: {rest:?}");
    assert_ended_quietly(&mut logs);
}

/// A follower that starts in the middle of a session gets what the ring still holds, then
/// what comes next, contiguous, through its pipe.
#[tokio::test]
async fn a_raw_follower_that_starts_mid_stream_gets_the_ring_then_the_live_bytes() {
    let env = Env::new();
    let id = sh_session(
        &env,
        "64K",
        "read x; seq 1 100000; read y; seq 100001 300000",
    );
    let mut all = seq_printed(1..=100_000);
    let first = all.len() as u64;
    all.extend_from_slice(&seq_printed(100_001..=300_000));
    start_flood(&env, &id).await;
    wait_until_async("the first part to be printed", T, || async {
        info(&env, &id).await.output_end == first
    })
    .await;
    let mut logs = follow(&env, &id, &[], Stdio::piped());
    wait_attached(&env, &id, 1).await;
    let ring_start = info(&env, &id).await.ring_start;
    assert!(ring_start > 0, "the ring no longer holds the beginning");
    start_flood(&env, &id).await;
    let got = read_all(&mut logs);
    assert_ended_quietly(&mut logs);
    let want = &all[ring_start as usize..];
    if let Some(at) = first_difference(&got, want) {
        panic!(
            "{} bytes instead of {} (from the ring's start, {ring_start}); first difference at byte {at}",
            got.len(),
            want.len()
        );
    }
}

/// When the reader of a follower's pipe leaves (`… | head -c 100`), the holder's write
/// fails: `logs` says so and ends with an error, and the agent is no longer held for it.
#[tokio::test]
async fn when_the_pipes_reader_leaves_logs_says_so_and_the_agent_runs_on() {
    let env = Env::new();
    let id = flood_session(&env);
    let mut logs = follow_the_flood(&env, &id, &[], Stdio::piped()).await;
    let mut stdout = logs.stdout.take().expect("stdout");
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).expect("the first bytes");
    assert_eq!(&first[..], &flood_bytes()[..100]);
    drop(stdout);
    let (status, err) = ended(&mut logs, "`logs` to end once its reader left");
    assert!(!status.success(), "logs cannot have succeeded: {err}");
    assert!(
        err.contains("cannot write into this reader's output"),
        "logs did not say why it ended: {err:?}"
    );
    wait_agent_exited(&env, &id, "the agent to finish once nobody holds it").await;
}
