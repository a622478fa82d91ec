//! Round trips and wire shapes of every control message.

use super::*;
use crate::ids::{ClientId, SessionId};
use crate::supervisor::Backend;

fn info() -> SessionInfo {
    SessionInfo {
        id: SessionId::parse("abc123").expect("valid"),
        name: "build".into(),
        command: "bash".into(),
        args: vec!["-c".into(), "echo 'hi'; exit 3".into()],
        cwd: "/tmp".into(),
        pid: 4242,
        holder_pid: 4241,
        started_at: "2026-11-22T02:00:00Z".into(),
        size: Size { cols: 80, rows: 24 },
        state: SessionState::Exited,
        exit_code: Some(3),
        exit_signal: None,
        exited_at: Some("2026-11-22T02:00:01Z".into()),
        clients: 2,
        restarts: 1,
        output_end: 10,
        last_output_at: Some("2026-11-22T02:00:00.250Z".into()),
        ring_start: 0,
        ring_capacity: 4 << 20,
        backend: Backend::Holder,
        tmux: None,
        program_status: None,
    }
}

fn bridge_info() -> SessionInfo {
    SessionInfo {
        backend: Backend::Tmux,
        tmux: Some(TmuxTarget {
            socket: "/tmp/tmux-1000/default".into(),
            pane: "%3".into(),
        }),
        exit_code: None,
        ..info()
    }
}

fn delivery() -> crate::notify::DeliveryView {
    crate::notify::DeliveryView {
        notification: "n1".into(),
        channel: "desktop".into(),
        status: crate::notify::DeliveryStatus::Delivered,
        attempts: 1,
        error: None,
        latency_ms: Some(12),
    }
}

fn permission() -> crate::agent::PermissionRequest {
    crate::agent::PermissionRequest {
        id: "p1".into(),
        session: SessionId::parse("abc123").expect("valid"),
        agent_session: Some("e8c4".into()),
        tool: "Bash".into(),
        input: serde_json::json!({"command": "ls"}),
        suggestions: vec![serde_json::json!({"type": "addDirectories"})],
        created_at: "2026-11-22T02:00:00Z".into(),
        expires_at: "2026-11-22T02:10:00Z".into(),
        channel: crate::agent::AnswerChannel::Hook,
        questions: Vec::new(),
        outcome: Some(crate::agent::PermissionOutcome::Decided {
            decision: crate::agent::Decision::Allow,
            by: "cli".into(),
            at: "2026-11-22T02:00:01Z".into(),
        }),
    }
}

fn all_messages() -> Vec<Message> {
    let mut requests = vec![
        Request::Hello(Hello {
            version: 1,
            mode: Mode::ReadWrite,
            stream: true,
            start: Start::Offset { offset: 99 },
            size: Some(Size { cols: 80, rows: 24 }),
            lossless: true,
            backpressure: Some(Backpressure { stall_ms: 2500 }),
            client_name: Some("attach".into()),
            activity: true,
            relay: true,
            sink: true,
        }),
        Request::Hello(Hello {
            version: 1,
            mode: Mode::ReadOnly,
            stream: false,
            start: Start::RingStart,
            size: None,
            lossless: false,
            backpressure: None,
            client_name: None,
            activity: false,
            relay: false,
            sink: false,
        }),
        Request::Info,
        Request::Resize {
            size: Size { cols: 1, rows: 2 },
        },
        Request::Restart,
        Request::Remove { force: true },
        Request::Screen,
        Request::Hook(Box::new(crate::agent::HookCall {
            agent: "claude".into(),
            session: Some(SessionId::parse("abc123").expect("valid")),
            ancestors: vec![10, 1],
            agent_home: Some("/home/dev/.codex".into()),
            payload: serde_json::json!({"hook_event_name": "Stop"}),
        })),
        Request::Permissions { all: true },
        Request::Adopt {
            session: SessionId::parse("abc123").expect("valid"),
        },
        Request::ClaudeBg {
            session: SessionId::parse("cbg-e21643de").expect("valid"),
            action: BgAction::Respawn,
        },
        Request::StartBackground {
            prompt: "say hello".into(),
            cwd: "/tmp".into(),
        },
        Request::Notifications { limit: 5 },
        Request::NotifyTest {
            channel: "desktop".into(),
        },
        Request::NotifyPause { paused: true },
        Request::History {
            search: Some("flaky test".into()),
            limit: 20,
        },
        Request::Decide {
            request: "p1".into(),
            decision: crate::agent::Decision::Deny {
                message: Some("no".into()),
            },
            by: "cli".into(),
        },
        Request::Control {
            session: "build".into(),
            control: crate::agent::Control::Interrupt { message: None },
            by: "cli".into(),
        },
    ];
    requests.extend(Signal::ALL.map(|signal| Request::Signal { signal }));
    let responses = vec![
        Response::Hello {
            version: 1,
            client: ClientId(3),
            session: Box::new(info()),
            stream: StreamStart {
                kind: StreamKind::Snapshot,
                offset: 10,
                gap: true,
            },
            sink: false,
        },
        Response::Hello {
            version: 3,
            client: ClientId(4),
            session: Box::new(info()),
            stream: StreamStart {
                kind: StreamKind::Bytes,
                offset: 0,
                gap: false,
            },
            sink: true,
        },
        Response::Info {
            session: Box::new(info()),
        },
        Response::Info {
            session: Box::new(bridge_info()),
        },
        Response::Screen {
            rows: vec!["$ ls".into(), "".into()],
            offset: 7,
            title: "bash".into(),
        },
        Response::HookReply { output: None },
        Response::HookReply {
            output: Some(serde_json::json!({"hookSpecificOutput": {}})),
        },
        Response::Permissions {
            requests: vec![permission()],
        },
        Response::Notifications {
            notifications: Vec::new(),
            deliveries: vec![delivery()],
        },
        Response::NotifyTested {
            delivery: delivery(),
        },
        Response::Permission {
            request: Box::new(permission()),
        },
        Response::Ok,
        Response::Message {
            receipt: Box::new(crate::agent::MessageReceipt {
                outcome: crate::agent::InputOutcome::Queued,
                detail: "queued".into(),
                session: crate::supervisor::SessionView::from_holder(&info(), None),
            }),
        },
    ];
    let notifications = vec![
        Notification::Lagged { from: 1, to: 2 },
        Notification::Resized {
            size: Size { cols: 3, rows: 4 },
        },
        Notification::Exited {
            code: Some(1),
            signal: None,
        },
        Notification::Exited {
            code: None,
            signal: Some("KILL".into()),
        },
        Notification::Restarted { pid: 5 },
        Notification::Output { end: 77 },
        Notification::Typed { count: 3 },
        Notification::Closing {
            reason: "grace period over".into(),
        },
        Notification::Demoted {
            reason: "read nothing for 10 s".into(),
        },
    ];
    let codes = [
        ErrorCode::BadFrame,
        ErrorCode::Protocol,
        ErrorCode::UnsupportedVersion,
        ErrorCode::UnknownRequest,
        ErrorCode::ReadOnly,
        ErrorCode::SessionExited,
        ErrorCode::SessionRunning,
        ErrorCode::InvalidSize,
        ErrorCode::Os,
        ErrorCode::Unsupported,
        ErrorCode::Internal,
        ErrorCode::NotFound,
        ErrorCode::AlreadyDecided,
        ErrorCode::Invalid,
    ];
    let mut all: Vec<Message> = Vec::new();
    all.extend(
        requests
            .into_iter()
            .enumerate()
            .map(|(i, payload)| Message::Request {
                id: i as u64,
                payload,
            }),
    );
    all.extend(
        responses
            .into_iter()
            .map(|payload| Message::Response { id: 9, payload }),
    );
    all.extend(
        notifications
            .into_iter()
            .map(|payload| Message::Notification { payload }),
    );
    all.extend(codes.iter().enumerate().map(|(i, &code)| Message::Error {
        id: (i % 2 == 0).then_some(i as u64),
        payload: ErrorPayload::new(code, "it went wrong; try again"),
    }));
    all
}

#[test]
fn every_message_round_trips_through_json() {
    for msg in all_messages() {
        let json = serde_json::to_string(&msg).expect("encode");
        let back: Message = serde_json::from_str(&json).expect("decode");
        assert_eq!(back, msg, "{json}");
    }
}

#[test]
fn envelope_has_type_id_and_payload() {
    let msg = Message::Request {
        id: 5,
        payload: Request::Signal {
            signal: Signal::Int,
        },
    };
    let v: serde_json::Value = serde_json::to_value(&msg).expect("encode");
    assert_eq!(
        v,
        serde_json::json!({"type": "request", "id": 5, "payload": {"op": "signal", "signal": "INT"}})
    );
    let err = Message::Error {
        id: None,
        payload: ErrorPayload::new(ErrorCode::BadFrame, "x"),
    };
    let v = serde_json::to_value(&err).expect("encode");
    assert!(v.get("id").is_none(), "connection errors carry no id");
}

#[test]
fn unknown_ops_decode_to_unknown_instead_of_failing() {
    let msg: Message = serde_json::from_str(
        r#"{"type":"request","id":1,"payload":{"op":"teleport","to":"mars"}}"#,
    )
    .expect("decodes");
    assert_eq!(
        msg,
        Message::Request {
            id: 1,
            payload: Request::Unknown
        }
    );
    let code: ErrorCode = serde_json::from_str(r#""brand_new""#).expect("decodes");
    assert_eq!(code, ErrorCode::Unknown);
}

#[test]
fn hello_defaults_to_a_streaming_snapshot() {
    let msg: Message = serde_json::from_str(
        r#"{"type":"request","id":1,"payload":{"op":"hello","version":1,"mode":"read_only"}}"#,
    )
    .expect("decodes");
    let Message::Request {
        payload: Request::Hello(h),
        ..
    } = msg
    else {
        panic!("not a hello: {msg:?}");
    };
    assert!(h.stream);
    assert_eq!(h.start, Start::Snapshot);
    assert!(!h.lossless);
    assert_eq!(
        h.backpressure, None,
        "a version-1 hello asks for no backpressure"
    );
}

#[test]
fn a_version_1_peer_reads_a_version_2_hello_and_notification() {
    // What a version-1 build decodes: the same structs without the new field; unknown
    // fields are ignored and unknown notifications decode to `Unknown`.
    #[derive(Deserialize)]
    struct HelloV1 {
        version: u32,
        lossless: bool,
    }
    let mut hello = Hello::new(Mode::ReadOnly);
    hello.lossless = true;
    hello.backpressure = Some(Backpressure { stall_ms: 10 });
    let old: HelloV1 =
        serde_json::from_value(serde_json::to_value(&hello).expect("encode")).expect("decode");
    assert_eq!((old.version, old.lossless), (crate::PROTOCOL_VERSION, true));
    let n: Notification =
        serde_json::from_str(r#"{"op":"demoted_in_v9","reason":"x"}"#).expect("decodes");
    assert_eq!(n, Notification::Unknown);
}

#[test]
fn a_program_status_notification_round_trips_and_an_older_peer_skips_it() {
    use crate::program_status::{BlockedKind, ProgramState, ProgramStatus};
    let n = Notification::ProgramStatus {
        status: Some(ProgramStatus {
            state: ProgramState::Blocked,
            kind: Some(BlockedKind::Permission),
            app: Some("claude-code".into()),
            message: Some("approve Bash: ls".into()),
            title: None,
            progress: Some(40),
            id: None,
            at: "2026-12-06T22:00:00.000Z".into(),
        }),
    };
    let json = serde_json::to_string(&n).expect("encode");
    assert_eq!(
        serde_json::from_str::<Notification>(&json).expect("decode"),
        n
    );
    // A version-2 build knows no `program_status` op: it decodes to its `Unknown`.
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(tag = "op", rename_all = "snake_case")]
    enum NotificationV2 {
        Demoted {
            reason: String,
        },
        #[serde(other)]
        Unknown,
    }
    assert_eq!(
        serde_json::from_str::<NotificationV2>(&json).expect("decode"),
        NotificationV2::Unknown
    );
}

#[test]
fn signals_parse_from_the_usual_spellings() {
    for (s, want) in [
        ("INT", Signal::Int),
        ("sigterm", Signal::Term),
        ("9", Signal::Kill),
        ("Hup", Signal::Hup),
        ("SIGSTOP", Signal::Stop),
        ("cont", Signal::Cont),
    ] {
        assert_eq!(s.parse::<Signal>().expect(s), want);
    }
    assert!("USR1".parse::<Signal>().is_err());
}

#[test]
fn metadata_without_a_backend_is_a_holder_and_bridges_keep_theirs() {
    let mut v = serde_json::to_value(info()).expect("encode");
    assert_eq!(v["backend"], "holder");
    assert!(v.get("tmux").is_none(), "no tmux field for holders");
    v.as_object_mut().expect("object").remove("backend");
    let old: SessionInfo = serde_json::from_value(v).expect("decodes");
    assert_eq!(old.backend, Backend::Holder, "metadata from older holders");
    let v = serde_json::to_value(bridge_info()).expect("encode");
    assert_eq!(v["backend"], "tmux");
    assert_eq!(v["tmux"]["pane"], "%3");
}

#[test]
fn summary_has_exactly_the_ls_fields() {
    let v = serde_json::to_value(bridge_info().summary()).expect("encode");
    let mut keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys.len(),
        9,
        "a bridge's summary has the same fields: {keys:?}"
    );
    let v = serde_json::to_value(info().summary()).expect("encode");
    let mut keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "clients",
            "command",
            "cwd",
            "exit_code",
            "id",
            "name",
            "pid",
            "started_at",
            "state"
        ]
    );
    assert_eq!(v["command"], "bash -c 'echo '\\''hi'\\''; exit 3'");
}
