//! The fake API over real loopback HTTP, as an agent's HTTP client meets it: keep-alive,
//! chunked request bodies, scripted replies picked by what the request carries, gates, and
//! every request recorded.

use paddock_fakeapi::{Api, FakeApi, Reply, Script, Usage, When};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One HTTP/1.1 response read off `r`: status, headers, body (chunked decoded).
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split(' ')
        .nth(1)
        .expect("status")
        .parse()
        .expect("number");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').expect("colon");
        headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
    }
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if get("transfer-encoding").as_deref() == Some("chunked") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).expect("chunk size");
            let n = usize::from_str_radix(size.trim(), 16).expect("hex");
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).expect("chunk");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        let n: usize = get("content-length")
            .expect("length")
            .parse()
            .expect("number");
        body.resize(n, 0);
        r.read_exact(&mut body).expect("body");
    }
    (status, headers, body)
}

fn post(w: &mut TcpStream, path: &str, body: &Value, chunked: bool) {
    let body = body.to_string();
    if chunked {
        let (a, b) = body.split_at(body.len() / 2);
        write!(
            w,
            "POST {path} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
        .expect("write");
    } else {
        write!(
            w,
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
    }
}

fn connect(fake: &FakeApi) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(fake.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let r = BufReader::new(s.try_clone().expect("clone"));
    (s, r)
}

/// The SSE events of a body: (event name, data).
fn events(body: &[u8]) -> Vec<(String, Value)> {
    String::from_utf8_lossy(body)
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let name = e
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .expect("event");
            let data = e
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .expect("data");
            (name.to_owned(), serde_json::from_str(data).expect("json"))
        })
        .collect()
}

fn turn(text: &str) -> Value {
    json!({"model": "claude-test", "stream": true, "tools": [{"name": "Bash"}],
           "messages": [{"role": "user", "content": [
               {"type": "text", "text": "<system-reminder>\nignore me\n</system-reminder>"},
               {"type": "text", "text": text}]}]})
}

#[test]
fn a_conversation_over_one_kept_alive_connection_follows_the_script() {
    let fake = FakeApi::start(
        Script::new()
            .then(
                Reply::tool_use("Bash", json!({"command": "ls"}))
                    .when(When::UserSays("list".into()))
                    .usage(Usage::new(11, 3)),
            )
            .then(Reply::text("Here they are.").when(When::ToolResult)),
    )
    .expect("start");
    let (mut w, mut r) = connect(&fake);

    // A side request (no tools) gets the fallback and leaves the script alone.
    post(
        &mut w,
        "/v1/messages?beta=true",
        &json!({"model": "m", "messages": [{"role": "user", "content": "title?"}]}),
        false,
    );
    let (status, _, body) = read_response(&mut r);
    assert_eq!(status, 200);
    let side: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(side["content"][0]["text"], "OK.");

    post(
        &mut w,
        "/v1/messages?beta=true",
        &turn("please list the files"),
        true,
    );
    let (status, headers, body) = read_response(&mut r);
    assert_eq!(status, 200);
    assert!(headers.contains(&("content-type".into(), "text/event-stream".into())));
    let evs = events(&body);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    let start = evs
        .iter()
        .find(|(n, _)| n == "content_block_start")
        .expect("block");
    assert_eq!(start.1["content_block"]["name"], "Bash");
    let tool_id = start.1["content_block"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let result = json!({"model": "claude-test", "stream": true, "tools": [{"name": "Bash"}],
        "messages": [
            {"role": "user", "content": "please list the files"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id,
                "content": [{"type": "text", "text": "a.txt"}], "is_error": false}]}]});
    post(&mut w, "/v1/messages", &result, false);
    let (_, _, body) = read_response(&mut r);
    let text: String = events(&body)
        .iter()
        .filter(|(n, d)| n == "content_block_delta" && d["delta"]["type"] == "text_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().expect("text").to_owned())
        .collect();
    assert_eq!(text, "Here they are.");

    post(
        &mut w,
        "/v1/messages/count_tokens",
        &json!({"messages": []}),
        false,
    );
    let (status, _, body) = read_response(&mut r);
    assert_eq!(status, 200);
    let count: Value = serde_json::from_slice(&body).expect("json");
    assert!(count["input_tokens"].as_u64().is_some_and(|n| n > 0));

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].reply, None);
    assert!(!reqs[0].is_turn());
    assert_eq!(reqs[1].reply, Some(0));
    assert_eq!(reqs[1].prompt(), "please list the files");
    assert_eq!(reqs[2].reply, Some(1));
    let results = reqs[2].tool_results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].id, tool_id);
    assert_eq!(results[0].text, "a.txt");
    assert_eq!(reqs[3].api, Api::CountTokens);
    assert_eq!(fake.times_used(0), 1);
    assert_eq!(fake.times_used(1), 1);
}

#[test]
fn a_gated_reply_waits_until_the_test_opens_the_gate() {
    let fake = FakeApi::start(Script::new().then(Reply::text("late").gate("go"))).expect("start");
    let (mut w, mut r) = connect(&fake);
    post(
        &mut w,
        "/v1/responses",
        &json!({"model": "gpt", "stream": true, "tools": [{"type": "function", "name": "exec_command"}],
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]}),
        false,
    );
    fake.wait_for("the gated request", Duration::from_secs(20), |r| {
        r.is_turn()
    });
    // Nothing arrives while the gate is shut.
    w.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut probe = [0u8; 1];
    let early = r.get_mut().read(&mut probe);
    assert!(early.is_err(), "the reply came before the gate opened");
    fake.open_gate("go");
    r.get_mut()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let (status, _, body) = read_response(&mut r);
    assert_eq!(status, 200);
    let evs = events(&body);
    assert_eq!(evs.last().expect("last").0, "response.completed");
    assert!(evs
        .iter()
        .any(|(n, d)| n == "response.output_text.delta" && d["delta"] == "late"));
}

#[test]
fn an_error_reply_uses_the_status_and_malformed_requests_get_400() {
    let fake = FakeApi::start(
        Script::new().then(Reply::error(529, "overloaded_error", "Overloaded").should_retry(false)),
    )
    .expect("start");
    let (mut w, mut r) = connect(&fake);
    post(&mut w, "/v1/messages", &turn("hello"), false);
    let (status, headers, body) = read_response(&mut r);
    assert_eq!(status, 529);
    assert!(headers.contains(&("x-should-retry".into(), "false".into())));
    let err: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(err["error"]["type"], "overloaded_error");

    write!(
        w,
        "POST /v1/messages HTTP/1.1\r\ncontent-length: zzz\r\n\r\n"
    )
    .expect("write");
    let (status, _, _) = read_response(&mut r);
    assert_eq!(status, 400);
    assert!(fake.log().contains("bad request"), "{}", fake.log());
}
