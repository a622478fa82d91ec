//! A scripted local fake of the model APIs the agent CLIs call (Anthropic Messages for
//! Claude Code, OpenAI Responses for Codex), speaking their real wire protocols over local
//! HTTP, plus sandboxes that point the real CLIs at it ([`agents`]). Tests start one
//! [`FakeApi`] per test with a [`Script`]; it records every request for assertions.
#![forbid(unsafe_code)]

pub mod agents;
pub mod claude_session;
pub mod desktop;
// --- begin: Gemini CLI (issue 15, item 4) ---
pub mod gemini;
// --- end: Gemini CLI ---
pub mod http;
pub mod push;
mod recorded;
mod render;
mod script;

pub use recorded::{Api, Recorded, ToolResult};
pub use script::{Answer, Block, Reply, Script, Usage, When};

use render::Response;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start the fake API server: {0}")]
    Start(#[source] std::io::Error),
}

/// What the server and the test share. The mutex is never held across an `.await`.
struct State {
    script: Script,
    /// How many requests each scripted reply has answered.
    used: Vec<u32>,
    requests: Vec<Recorded>,
    /// One line per request and per problem, for a failing test's output.
    log: Vec<String>,
    started: Instant,
}

struct Shared {
    state: Mutex<State>,
    gates: watch::Sender<HashSet<String>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-changed in a way
        // that matters to a test; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self, line: String) {
        let mut st = self.lock();
        let t = st.started.elapsed().as_secs_f64();
        tracing::debug!("{line}");
        st.log.push(format!("{t:8.3}s {line}"));
    }
}

/// A running fake API on `127.0.0.1:<port chosen by the OS>`, stopped when dropped (its log
/// is printed then if the test is failing).
pub struct FakeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApi {
    /// Starts serving `script` on a fresh loopback port, on a thread of its own (so sync and
    /// async tests alike can use it).
    pub fn start(script: Script) -> Result<Self, Error> {
        Self::start_on(
            "127.0.0.1:0".parse().expect("valid literal address"),
            script,
        )
    }

    /// Like [`FakeApi::start`] on a given address (the binary's `--port`).
    pub fn start_on(addr: SocketAddr, script: Script) -> Result<Self, Error> {
        let listener = std::net::TcpListener::bind(addr).map_err(Error::Start)?;
        Self::start_listening(listener, script)
    }

    /// Like [`FakeApi::start`] on a socket the caller bound already: a test that must know
    /// the address before it writes the script keeps the port, so nothing else takes it in
    /// between.
    pub fn start_listening(listener: std::net::TcpListener, script: Script) -> Result<Self, Error> {
        listener.set_nonblocking(true).map_err(Error::Start)?;
        let addr = listener.local_addr().map_err(Error::Start)?;
        let used = vec![0; script.replies.len()];
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                script,
                used,
                requests: Vec::new(),
                log: Vec::new(),
                started: Instant::now(),
            }),
            gates: watch::channel(HashSet::new()).0,
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Start)?;
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(listener).map_err(Error::Start)?
        };
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fakeapi".into())
            .spawn(move || rt.block_on(serve(listener, served, shutdown_rx)))
            .map_err(Error::Start)?;
        Ok(Self {
            addr,
            shared,
            shutdown,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` (Claude Code's `ANTHROPIC_BASE_URL`; Codex wants `/v1` after it).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The conversation turns so far (requests that offer tools).
    pub fn turns(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.is_turn())
            .collect()
    }

    /// Appends a reply to the script while it runs.
    pub fn push(&self, reply: Reply) {
        let mut st = self.shared.lock();
        st.script.replies.push(reply);
        st.used.push(0);
    }

    /// Lets replies waiting on `name` go.
    pub fn open_gate(&self, name: &str) {
        self.shared.gates.send_modify(|g| {
            g.insert(name.to_owned());
        });
    }

    /// How many requests scripted reply `index` has answered.
    pub fn times_used(&self, index: usize) -> u32 {
        self.shared.lock().used.get(index).copied().unwrap_or(0)
    }

    /// The server's log: one line per request (what it was, which reply answered it).
    pub fn log(&self) -> String {
        self.shared.lock().log.join("\n")
    }

    /// Waits until a request satisfies `pred` and returns the first that does; panics naming
    /// `what` (with the server's log) after `timeout`. For tests.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.shared.lock().requests.iter().find(|r| pred(r)) {
                return r.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for the agent to send {what}; the fake API saw:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!("--- fake API log ({}):\n{}", self.url(), self.log());
        }
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, _)) => {
                let shared = shared.clone();
                let shutdown = shutdown.clone();
                conns.spawn(connection(stream, shared, shutdown));
            }
            Err(e) => {
                shared.log(format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Reap finished connections so the set stays small.
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    loop {
        let req = tokio::select! {
            _ = shutdown.changed() => return,
            req = http::read_request(&mut r, &mut w) => req,
        };
        let req = match req {
            Ok(req) => req,
            Err(http::HttpError::Closed) => return,
            Err(e) => {
                shared.log(format!("bad request: {e}"));
                let body = json!({"type": "error", "error": {"type": "invalid_request_error", "message": e.to_string()}});
                let _ =
                    http::write_full(&mut w, 400, &[], body.to_string().as_bytes(), false).await;
                return;
            }
        };
        let keep_alive = req.keep_alive();
        let (response, pace) = answer(&shared, &req).await;
        let written = match &response {
            Response::Full {
                status,
                headers,
                body,
            } => {
                let headers: Vec<(&str, String)> =
                    headers.iter().map(|(k, v)| (*k, v.clone())).collect();
                http::write_full(&mut w, *status, &headers, body, keep_alive).await
            }
            Response::Events { events } => {
                let headers = [
                    ("content-type", "text/event-stream".to_owned()),
                    ("cache-control", "no-cache".to_owned()),
                    ("request-id", "req_fake".to_owned()),
                ];
                http::write_chunked(&mut w, 200, &headers, events, pace, keep_alive).await
            }
        };
        if let Err(e) = written {
            shared.log(format!("writing the response failed: {e}"));
            return;
        }
        if !keep_alive {
            return;
        }
    }
}

/// Records `req`, picks its reply (waiting on the reply's gate), renders it.
async fn answer(shared: &Shared, req: &http::Request) -> (Response, Duration) {
    let api = match (req.method.as_str(), req.path()) {
        ("POST", "/v1/messages") => Api::Messages,
        ("POST", "/v1/messages/count_tokens") => Api::CountTokens,
        ("POST", "/v1/responses") => Api::Responses,
        // --- begin: Gemini CLI (issue 15, item 4) ---
        ("POST", path) => match gemini::route(path) {
            Some((_, gemini::Method::CountTokens)) => Api::GeminiCountTokens,
            Some(_) => Api::Gemini,
            None => Api::Other,
        },
        // --- end: Gemini CLI ---
        _ => Api::Other,
    };
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let mut rec = Recorded {
        seq: 0,
        at: SystemTime::now(),
        method: req.method.clone(),
        target: req.target.clone(),
        headers: req.headers.clone(),
        api,
        body,
        reply: None,
    };
    let encoded = req
        .header("content-encoding")
        .filter(|e| !e.eq_ignore_ascii_case("identity"));
    let (picked, n) = {
        let mut st = shared.lock();
        rec.seq = st.requests.len();
        let scripted = matches!(api, Api::Messages | Api::Responses | Api::Gemini);
        let picked = if scripted && encoded.is_none() {
            let index = pick(&st, &rec);
            if let Some(i) = index {
                st.used[i] += 1;
            }
            rec.reply = index;
            let reply = match index {
                Some(i) => st.script.replies[i].clone(),
                None => st.script.fallback.clone(),
            };
            Some(reply)
        } else {
            None
        };
        st.requests.push(rec.clone());
        (picked, rec.seq)
    };
    let summary = summarize(&rec);
    let Some(reply) = picked else {
        let response = match (api, encoded) {
            (_, Some(enc)) => Response::json(
                415,
                &json!({"error": {"type": "invalid_request_error",
                        "message": format!("the fake API cannot read {enc}-encoded bodies")}}),
            ),
            (Api::GeminiCountTokens, _) => {
                Response::json(200, &json!({"totalTokens": (req.body.len() / 4).max(1)}))
            }
            (Api::CountTokens, _) => {
                // A rough count, like the real one: about 4 bytes a token.
                Response::json(200, &json!({"input_tokens": (req.body.len() / 4).max(1)}))
            }
            _ => Response::json(
                404,
                &json!({"type": "error", "error": {"type": "not_found_error",
                        "message": format!("the fake API has no {} {}", req.method, req.path())}}),
            ),
        };
        shared.log(format!("#{n} {summary} -> {}", response.status()));
        return (response, Duration::ZERO);
    };
    if let Some(gate) = &reply.gate {
        shared.log(format!("#{n} {summary} waits for gate {gate:?}"));
        let mut gates = shared.gates.subscribe();
        let _ = gates.wait_for(|g| g.contains(gate)).await;
    }
    let model = rec.model().unwrap_or("fake-model").to_owned();
    let response = if api == Api::Responses {
        render::openai(&reply.answer, &model, rec.stream(), n)
    } else if api == Api::Gemini {
        gemini::render(&reply.answer, &model, rec.stream(), n)
    } else {
        render::anthropic(&reply.answer, &model, rec.stream(), n)
    };
    let which = match rec.reply {
        Some(i) => format!("reply {i}"),
        None => "fallback".to_owned(),
    };
    shared.log(format!(
        "#{n} {summary} -> {which}: {} {}",
        response.status(),
        describe(&reply.answer)
    ));
    (response, Duration::from_millis(reply.pace_ms))
}

/// The first scripted reply with uses left whose `when` matches.
fn pick(st: &State, rec: &Recorded) -> Option<usize> {
    st.script.replies.iter().enumerate().find_map(|(i, r)| {
        let left = r.times == 0 || st.used[i] < r.times;
        (left && matches(&r.when, rec)).then_some(i)
    })
}

fn matches(when: &When, rec: &Recorded) -> bool {
    match when {
        When::Any => true,
        When::Turn => rec.is_turn(),
        When::ToolResult => rec.is_turn() && rec.ends_with_tool_result(),
        When::UserSays(text) => {
            rec.is_turn() && !rec.ends_with_tool_result() && rec.prompt().contains(text)
        }
    }
}

fn summarize(rec: &Recorded) -> String {
    let mut s = format!("{} {}", rec.method, rec.target);
    if rec.is_turn() {
        let results = rec.tool_results();
        if results.is_empty() {
            let text: String = rec.prompt().chars().take(80).collect();
            s.push_str(&format!(" turn, user: {text:?}"));
        } else {
            for r in results {
                let text: String = r.text.chars().take(80).collect();
                s.push_str(&format!(" tool_result {} {text:?}", r.id));
            }
        }
    } else if matches!(rec.api, Api::Messages | Api::Responses | Api::Gemini) {
        s.push_str(" (side request, no tools)");
    }
    s
}

fn describe(answer: &Answer) -> String {
    match answer {
        Answer::Error {
            error_type,
            message,
            ..
        } => format!("{error_type}: {message}"),
        Answer::Message { blocks, .. } => blocks
            .iter()
            .map(|b| match b {
                Block::Text { text } => {
                    format!("text {:?}", text.chars().take(40).collect::<String>())
                }
                Block::Thinking { .. } => "thinking".to_owned(),
                Block::ToolUse { name, input, .. } => format!("tool_use {name} {input}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}
